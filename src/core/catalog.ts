import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CommandInfo, ParamInfo } from '../protocol/catalog.js';

export {
  usageOf,
  type ArgInfo,
  type ArgKind,
  type CommandInfo,
  type ParamInfo,
} from '../protocol/catalog.js';

/**
 * The catalogue's hash as announced in `hello`: SHA-256 of its JSON as sent, hex, first 32
 * digits. A client that cached a catalogue under this hash need not ask for it again.
 */
export function catalogueHash(catalogue: readonly CommandInfo[]): string {
  return createHash('sha256').update(JSON.stringify(catalogue)).digest('hex').slice(0, 32);
}

interface JsonSchema {
  readonly type?: string;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
}

function typeName(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeName).join('|');
  if (schema.type === 'array') return `${schema.items ? typeName(schema.items) : 'unknown'}[]`;
  return schema.type ?? 'unknown';
}

/** Bounds worth telling a client: JSON's own integer range is not news. */
function bound(value: number | undefined): number | undefined {
  return value === undefined || Math.abs(value) >= Number.MAX_SAFE_INTEGER ? undefined : value;
}

/**
 * A request's wire arguments, read from the zod schema the dispatcher validates that
 * request with (through zod's JSON Schema export, as the input side sees it: a key with a
 * default may be left out). Refinements JSON Schema cannot say (the text rules) are not
 * listed; the document names them.
 */
export function paramsOf(args: z.ZodType): ParamInfo[] {
  const schema = z.toJSONSchema(args, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const numeric = property.anyOf?.find((alt) => alt.minimum !== undefined) ?? property;
    const text = property.anyOf?.find((alt) => alt.type === 'string') ?? property;
    const values = property.enum ?? (property.const !== undefined ? [property.const] : undefined);
    const param: Record<string, unknown> = {
      name,
      type: typeName(property),
      optional: !required.has(name),
      default: property.default,
      values,
      min: bound(numeric.minimum ?? property.items?.minimum),
      max: bound(numeric.maximum ?? property.items?.maximum),
      minLength: text.minLength,
      maxLength: text.maxLength ?? property.items?.maxLength,
      minItems: property.minItems,
      maxItems: property.maxItems,
      pattern: property.pattern,
    };
    for (const key of Object.keys(param)) if (param[key] === undefined) delete param[key];
    return param as unknown as ParamInfo;
  });
}
