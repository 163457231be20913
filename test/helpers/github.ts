// Loopback fakes of GitHub's hosted services, at the HTTP protocol level, so the real client libraries run
// unchanged (FACTS.md, "GitHub Actions runtime"):
//
//   artifact service (ACTIONS_RESULTS_URL): twirp CreateArtifact -> a signed upload URL on this server; Azure
//     block-blob PUTs (comp=block, then comp=blocklist); FinalizeArtifact -> the artifact id. The zip is kept.
//     ListArtifacts -> the run's artifacts, every job's (name_filter, id_filter); GetSignedArtifactURL -> a
//     download URL on this server; the blob GET answers the zip. Each job of a run has its own runtime token
//     (`runtimeToken(job)`), as matrix jobs do: artifacts uploaded by one job are listed and downloaded by another.
//   REST API (GITHUB_API_URL): PR comments listed in pages (Link: rel="next"), created, updated; a 403 mode
//     answers writes as GitHub answers a fork's read-only token.
//
//   const gh = await startFakeGitHub({ pageSize: 30 });
//   env: ACTIONS_RESULTS_URL=gh.url, GITHUB_API_URL=gh.url, ACTIONS_RUNTIME_TOKEN=runtimeToken()
//   gh.artifacts[0].entries -> file names in the uploaded zip; gh.comments(7); gh.calls

import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const RUN_BACKEND_ID = 'c0ffee00-0000-4000-8000-000000000001';
export const JOB_BACKEND_ID = 'c0ffee00-0000-4000-8000-000000000002';

/** Job `n`'s backend id (0 is JOB_BACKEND_ID): every job of the workflow run has its own. */
export function jobBackendId(n = 0): string {
  return n === 0 ? JOB_BACKEND_ID : `c0ffee00-0000-4000-8000-${String(100 + n).padStart(12, '0')}`;
}

/** An unsigned JWT whose `scp` claim holds the run and job backend ids (the artifact client decodes, never verifies). */
export function runtimeToken(job = 0): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ scp: `Actions.GenericRead:x Actions.Results:${RUN_BACKEND_ID}:${jobBackendId(job)}` })}.`;
}

export interface UploadedArtifact {
  id: number;
  name: string;
  /** The job that uploaded it. */
  jobBackendId: string;
  createdAt: string;
  size: number;
  hash: string;
  zip: Buffer;
  /** File names inside the zip, from its central directory. */
  entries: string[];
}

export interface FakeComment {
  id: number;
  body: string;
  html_url: string;
  user: { login: string };
}

export interface FakeGitHub {
  url: string;
  artifacts: UploadedArtifact[];
  /** Every request: "METHOD /path?query". */
  calls: string[];
  /** Authorization headers seen on REST calls. */
  authorizations: string[];
  comments(pr: number): FakeComment[];
  /** Adds comments by someone else (to push ours onto a later page). */
  addComments(pr: number, bodies: string[]): void;
  /**
   * 'forbidden': creating or updating a comment answers 403, like a fork's read-only token.
   * 'artifacts-down': the artifact service refuses every call (403), so no upload can succeed.
   */
  mode: 'ok' | 'forbidden' | 'artifacts-down';
  /** Statuses the next REST calls answer instead (one each, in order): 502, 429... to exercise retries. */
  failNext: number[];
  close(): Promise<void>;
}

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';

export async function startFakeGitHub(opts: { pageSize?: number } = {}): Promise<FakeGitHub> {
  const pageSize = opts.pageSize ?? 100;
  const calls: string[] = [];
  const authorizations: string[] = [];
  const artifacts: UploadedArtifact[] = [];
  const pending = new Map<string, { blocks: Map<string, Buffer>; zip?: Buffer }>();
  const comments = new Map<number, FakeComment[]>();
  let nextId = 1000;
  let url = '';

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const prComments = (pr: number) => {
    if (!comments.has(pr)) comments.set(pr, []);
    return comments.get(pr)!;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    // The host the client asked for (Link headers point back to it, as GitHub's do), e.g. [::ffff:127.0.0.1].
    const u = new URL(req.url ?? '/', req.headers.host ? `http://${req.headers.host}` : url);
    calls.push(`${req.method} ${u.pathname}${u.search}`);

    // ---- artifact service ----
    if (req.method === 'POST' && u.pathname.startsWith(TWIRP)) {
      if (fake.mode === 'artifacts-down') return json(res, 403, { code: 'permission_denied', msg: 'artifact storage is not available' });
      const call = u.pathname.slice(TWIRP.length);
      const b = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const job = String(b['workflow_job_run_backend_id']);
      if (b['workflow_run_backend_id'] !== RUN_BACKEND_ID || !job.startsWith('c0ffee00-0000-4000-8000-')) {
        return json(res, 400, { code: 'invalid_argument', msg: 'unknown run or job backend id' });
      }
      if (call === 'ListArtifacts') {
        // The whole run's artifacts, whichever job uploaded them (download-artifact takes other jobs' this way).
        const byName = b['name_filter'] === undefined ? undefined : String(b['name_filter']);
        const byId = b['id_filter'] === undefined ? undefined : Number(b['id_filter']);
        const list = artifacts.filter((a) => (byName === undefined || a.name === byName) && (byId === undefined || a.id === byId));
        return json(res, 200, {
          artifacts: list.map((a) => ({
            workflow_run_backend_id: RUN_BACKEND_ID,
            workflow_job_run_backend_id: a.jobBackendId,
            database_id: String(a.id),
            name: a.name,
            size: String(a.size),
            created_at: a.createdAt,
            digest: `sha256:${a.hash}`,
          })),
        });
      }
      const name = String(b['name']);
      if (call === 'GetSignedArtifactURL') {
        const a = artifacts.find((x) => x.name === name && x.jobBackendId === job);
        if (!a) return json(res, 404, { code: 'not_found', msg: `no artifact ${name} in job ${job}` });
        return json(res, 200, { signed_url: `${url}/download/${a.id}.zip?sig=fake` });
      }
      if (call === 'CreateArtifact') {
        if (artifacts.some((a) => a.name === name) || pending.has(name))
          return json(res, 409, { code: 'already_exists', msg: 'artifact exists' });
        pending.set(name, { blocks: new Map() });
        return json(res, 200, { ok: true, signed_upload_url: `${url}/blob/${encodeURIComponent(name)}.zip?sig=fake` });
      }
      if (call === 'FinalizeArtifact') {
        const p = pending.get(name);
        if (!p?.zip) return json(res, 404, { code: 'not_found', msg: 'nothing uploaded' });
        const hash = createHash('sha256').update(p.zip).digest('hex');
        if (b['hash'] !== `sha256:${hash}` || Number(b['size']) !== p.zip.length) {
          return json(res, 400, { code: 'invalid_argument', msg: `hash or size mismatch: ${String(b['hash'])} ${String(b['size'])}` });
        }
        const id = nextId++;
        pending.delete(name);
        artifacts.push({
          id,
          name,
          jobBackendId: job,
          createdAt: new Date().toISOString(),
          size: p.zip.length,
          hash,
          zip: p.zip,
          entries: zipEntries(p.zip),
        });
        return json(res, 200, { ok: true, artifact_id: String(id) });
      }
      return json(res, 404, { code: 'bad_route', msg: call });
    }
    if (req.method === 'GET' && u.pathname.startsWith('/download/')) {
      const a = artifacts.find((x) => `/download/${x.id}.zip` === u.pathname);
      if (!a || u.searchParams.get('sig') !== 'fake') return json(res, 404, {});
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(a.zip.length) });
      return res.end(a.zip);
    }
    if (req.method === 'PUT' && u.pathname.startsWith('/blob/')) {
      const name = decodeURIComponent(u.pathname.slice('/blob/'.length)).replace(/\.zip$/, '');
      const p = pending.get(name);
      if (!p) return json(res, 404, {});
      const comp = u.searchParams.get('comp');
      if (comp === 'block') p.blocks.set(u.searchParams.get('blockid') ?? '', body);
      else if (comp === 'blocklist') {
        const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((m) => m[1]!);
        p.zip = Buffer.concat(ids.map((id) => p.blocks.get(id) ?? Buffer.alloc(0)));
      } else p.zip = body;
      res.writeHead(201, {
        etag: '"0x1"',
        'last-modified': new Date().toUTCString(),
        'x-ms-request-id': String(nextId),
        'x-ms-version': '2024-11-04',
      });
      return res.end();
    }

    // ---- REST: PR comments ----
    authorizations.push(String(req.headers['authorization'] ?? ''));
    const failure = fake.failNext.shift();
    if (failure !== undefined) return json(res, failure, { message: `injected ${failure}` }, failure === 429 ? { 'retry-after': '0' } : {});
    let m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(u.pathname);
    if (m && req.method === 'GET') {
      const list = prComments(Number(m[1]));
      const page = Number(u.searchParams.get('page') ?? '1');
      const per = Math.min(pageSize, Number(u.searchParams.get('per_page') ?? '30'));
      const items = list.slice((page - 1) * per, page * per);
      const headers: Record<string, string> = {};
      if (page * per < list.length) {
        const next = new URL(u.href);
        next.searchParams.set('page', String(page + 1));
        headers['link'] = `<${next.href}>; rel="next", <${next.href}>; rel="last"`;
      }
      return json(res, 200, items, headers);
    }
    if (m && req.method === 'POST') {
      if (fake.mode === 'forbidden') return json(res, 403, { message: 'Resource not accessible by integration' });
      const pr = Number(m[1]);
      const id = nextId++;
      const c: FakeComment = {
        id,
        body: String(JSON.parse(body.toString('utf8')).body),
        html_url: `https://github.com/o/r/pull/${pr}#issuecomment-${id}`,
        user: { login: 'github-actions[bot]' },
      };
      prComments(pr).push(c);
      return json(res, 201, c);
    }
    m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(u.pathname);
    if (m && req.method === 'PATCH') {
      if (fake.mode === 'forbidden') return json(res, 403, { message: 'Resource not accessible by integration' });
      const c = [...comments.values()].flat().find((x) => x.id === Number(m![1]));
      if (!c) return json(res, 404, { message: 'Not Found' });
      c.body = String(JSON.parse(body.toString('utf8')).body);
      return json(res, 200, c);
    }
    return json(res, 404, { message: 'Not Found' });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: FakeGitHub = {
    url,
    artifacts,
    calls,
    authorizations,
    comments: (pr) => prComments(pr),
    addComments(pr, bodies) {
      for (const body of bodies) {
        const id = nextId++;
        prComments(pr).push({ id, body, html_url: `https://github.com/o/r/pull/${pr}#issuecomment-${id}`, user: { login: 'someone' } });
      }
    },
    mode: 'ok',
    failNext: [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return fake;
}

/** File names in a zip, read from its central directory (no unzip needed). */
export function zipEntries(zip: Buffer): string[] {
  // End of central directory: signature 0x06054b50, at most 64 KiB of comment after it.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry at ${p}`);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    names.push(zip.toString('utf8', p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names.sort();
}
