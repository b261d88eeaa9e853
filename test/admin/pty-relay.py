# Runs a command on a pseudo-terminal (so its stdin is a TTY) and relays this process's
# stdin to it and its output back to stdout. Used by the console tests; Python's standard
# library only, so CI needs nothing installed.
import os, pty, select, subprocess, sys

master, slave = pty.openpty()
child = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
inputs = [master, sys.stdin.fileno()]
while True:
    readable, _, _ = select.select(inputs, [], [], 0.1)
    if master in readable:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b''
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if sys.stdin.fileno() in readable:
        data = os.read(sys.stdin.fileno(), 65536)
        if data:
            os.write(master, data)
        else:
            inputs.remove(sys.stdin.fileno())
    if child.poll() is not None and master not in select.select([master], [], [], 0)[0]:
        break
sys.exit(child.wait())
