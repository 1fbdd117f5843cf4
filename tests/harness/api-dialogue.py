#!/usr/bin/env python3
"""Turns `strace -xx -s 65535 -e trace=connect,sendto,recvfrom` output of one
Heartbeat API client into a readable dialogue: one line per frame header and
the frame's classic text, `C>` for client to daemon, `S<` back. Used by
record-cl_status.sh; never at test time."""
import re
import struct
import sys

CALL = re.compile(r'^(?:\d+\s+)?(sendto|recvfrom|write|read|sendmsg|recvmsg)\((\d+), "((?:\\x[0-9a-f]{2})*)".*\) = (\d+)$')
CONNECT = re.compile(r'^(?:\d+\s+)?connect\((\d+), \{sa_family=AF_UNIX, sun_path="((?:\\x[0-9a-f]{2})*)"')


def unhex(s):
    return bytes(int(h, 16) for h in re.findall(r'\\x([0-9a-f]{2})', s))


def frames(stream, tag, out):
    pos = 0
    while len(stream) - pos >= 8:
        length, magic = struct.unpack_from('<iI', stream, pos)
        body = stream[pos + 8:pos + 8 + length]
        if len(body) < length:
            break
        out.append(f'{tag} header len={length} magic={magic:#x}')
        text = body.rstrip(b'\0').decode('utf-8', 'replace')
        nul = 'NUL-terminated' if body.endswith(b'\0') else 'no NUL'
        for line in text.split('\n'):
            if line:
                out.append(f'{tag}   {line}')
        out.append(f'{tag}   ({nul})')
        pos += 8 + length
    return stream[pos:]


def main():
    sock = None
    pending = {'C>': b'', 'S<': b''}
    out = []
    for line in sys.stdin:
        m = CONNECT.match(line)
        if m:
            # only the API socket: cl_status -v also tries the CCM socket
            if unhex(m.group(2)).endswith(b'/heartbeat/register'):
                sock = m.group(1)
            continue
        m = CALL.match(line.rstrip('\n'))
        if not m or m.group(2) != sock:
            continue
        call, data, count = m.group(1), unhex(m.group(3)), int(m.group(4))
        tag = 'C>' if call in ('sendto', 'write', 'sendmsg') else 'S<'
        pending[tag] = frames(pending[tag] + data[:count], tag, out)
    print('\n'.join(out))


main()
