// Who holds a TCP port on this machine, from /proc/net/tcp{,6} (the listening socket's inode) and
// /proc/<pid>/fd (which process has that socket open). Used to refuse a fixed port another process already
// holds, and to check that what answers readiness is the service loadgate started, not a stranger.

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { readProcStat } from './procfs.ts';

/** The inodes of sockets listening on `port` (any address, IPv4 or IPv6). */
export function listeningInodes(port: number): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address "0100007F:1F40", f[3] state (0A = LISTEN), f[9] inode.
      if (f[3] === '0A' && f[1]?.endsWith(`:${hex}`) && f[9]) out.push(f[9]);
    }
  }
  return out;
}

/** The pids that hold one of these socket inodes open (those whose fds can be read). */
export function socketOwners(inodes: readonly string[]): number[] {
  if (inodes.length === 0) return [];
  const wanted = new Set(inodes.map((i) => `socket:[${i}]`));
  const owners: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) {
          owners.push(pid);
          break;
        }
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return owners;
}

/** "pid 1234 (python3)" for a message. */
export function describePid(pid: number): string {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return `pid ${pid} (${comm})`;
  } catch {
    return `pid ${pid}`;
  }
}

/** Null when `port` can be listened on at 127.0.0.1 now, else who holds it (or the error code). */
export async function portTakenBy(port: number): Promise<string | null> {
  const err = await new Promise<NodeJS.ErrnoException | null>((res) => {
    const srv = createServer();
    srv.once('error', (e) => res(e));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => res(null)));
  });
  if (!err) return null;
  if (err.code !== 'EADDRINUSE') return err.code ?? err.message;
  const owners = socketOwners(listeningInodes(port));
  return owners.length ? owners.map(describePid).join(', ') : 'another process';
}

/**
 * Why the listener on `port` cannot be the service group `pgid` started: a process outside that group that
 * was already running before the group's leader started (a process started since, like docker-proxy for a
 * `docker run -p` command, may be the service's own). Null when it is (or may be) the service, or /proc cannot tell.
 */
export function strangerListener(port: number, pgid: number): string | null {
  const owners = socketOwners(listeningInodes(port));
  const leader = readProcStat(pgid);
  if (owners.length === 0 || !leader) return null;
  const started = Number(leader.startTicks);
  const strangers = owners.filter((pid) => {
    const st = readProcStat(pid);
    return st !== null && st.pgrp !== pgid && Number(st.startTicks) < started;
  });
  return strangers.length === owners.length ? strangers.map(describePid).join(', ') : null;
}
