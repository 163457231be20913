// Prompts for the openai preset (src/payload/prompts.ts), read through the config as users write it:
// dataset files (JSONL and CSV) and their errors, named by file and line; synthetic prompts of a target
// length, counted by the example LLM service's own tokenizer; max_tokens drawn per request; seeds; and
// shards, which split the prompts as they split any list of bodies.
//
// Token counts of the synthetic text in real tokenizers (not dependencies) are in src/payload/prompts.ts:
// here the example service's tokenizer counts them, exactly.

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { tokenize } from '../examples/llm-chat/model.ts';
import { flagOverrides } from '../src/cli.ts';
import { ConfigError, applyOverrides, buildPlan, readConfigFile } from '../src/plan/config.ts';
import { drawTokens, syntheticPrompts, syntheticText } from '../src/payload/prompts.ts';
import { mulberry32 } from '../src/payload/random.ts';
import type { Plan } from '../src/plan/types.ts';
import { CLI, runNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(removeTempDirs);

const dir = tempDir('loadgate-prompts-');
let n = 0;

/** A plan from a config whose one request is the openai preset with `request` added (YAML flow mapping text). */
function planOf(request: string, extra = ''): Plan {
  const file = writeFile(
    dir,
    `c${++n}.yml`,
    `service: {url: "http://127.0.0.1:9"}\nrequest: {preset: openai, model: m, ${request}}\nload: {stages: [{duration: 1s, users: 1}]}\n${extra}`,
  );
  return buildPlan(readConfigFile(file));
}

function bodiesOf(plan: Plan, i = 0): Array<Record<string, any>> {
  const b = plan.endpoints[i]!.body;
  assert.equal(b.kind, 'list');
  return (b as { bodies: string[] }).bodies.map((s) => JSON.parse(s));
}

/** The configuration error a request gives. */
function errorOf(request: string): string {
  try {
    planOf(request);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail(`no error for ${request}`);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('prompts from a dataset file', () => {
  it('JSONL: chat messages or a prompt a line, their own max_tokens, other fields sent as they are', () => {
    const file = writeFile(
      dir,
      'chat.jsonl',
      [
        '{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who made the heaven?"}], "max_tokens": 12}',
        '',
        '{"prompt": "In the beginning", "temperature": 0, "stream": false, "stream_options": null, "max_tokens": null}',
        '{"messages": [{"role": "user", "content": [{"type": "text", "text": "parts"}]}], "max_completion_tokens": 7}',
      ].join('\n'),
    );
    const bodies = bodiesOf(planOf(`prompts: ${file}`));
    assert.equal(bodies.length, 3, 'the blank line is no prompt');
    assert.deepEqual(bodies[0], {
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Who made the heaven?' },
      ],
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    // A prompt becomes one user message for chat; the preset's stream settings win over the line's.
    assert.deepEqual(bodies[1]!['messages'], [{ role: 'user', content: 'In the beginning' }]);
    assert.equal(bodies[1]!['temperature'], 0);
    assert.equal(bodies[1]!['stream'], true);
    assert.deepEqual(bodies[1]!['stream_options'], { include_usage: true });
    assert.equal(bodies[1]!['max_tokens'], 128, 'without its own, max_tokens is the default output length');
    assert.equal(bodies[2]!['max_tokens'], 7, 'max_completion_tokens is the line max_tokens');
    assert.equal(bodies[2]!['max_completion_tokens'], undefined);
  });

  it('CSV: a prompt column, optional max_tokens, quoted commas and line breaks', () => {
    const file = writeFile(dir, 'p.csv', 'id,Prompt,max_tokens\n1,"Say, then",5\n2,"two\nlines",\n\n3,plain,9\n');
    const bodies = bodiesOf(planOf(`prompts: ${file}, api: completions`));
    assert.deepEqual(
      bodies.map((b) => [b['prompt'], b['max_tokens'], b['messages']]),
      [
        ['Say, then', 5, undefined],
        ['two\nlines', 128, undefined],
        ['plain', 9, undefined],
      ],
    );
  });

  it('api: completions sends "prompt" to /v1/completions; chat messages are refused there, naming the line', () => {
    const plan = planOf(`prompts: {file: ${writeFile(dir, 'q.jsonl', '{"prompt": "x"}\n')}}, api: completions`);
    assert.equal(plan.endpoints[0]!.path, '/v1/completions');
    assert.equal(bodiesOf(plan)[0]!['prompt'], 'x');
    const file = writeFile(dir, 'm.jsonl', '{"prompt": "x"}\n{"messages": [{"role": "user", "content": "y"}]}\n');
    assert.match(errorOf(`prompts: ${file}, api: completions`), new RegExp(`${file}:2: "messages" are for chat`));
  });

  it('a bad file is one message naming the file and the line', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a.jsonl', '{"prompt": "ok"}\n{"prompt": "x"\n', /a\.jsonl:2: not valid JSON/],
      ['b.jsonl', '["x"]\n', /b\.jsonl:1: expected an object like \{"messages"/],
      ['c.jsonl', '{"prompt": "x", "messages": []}\n', /c\.jsonl:1: expected either "messages" \(chat\) or "prompt", not both/],
      ['d.jsonl', '{"max_tokens": 3}\n', /d\.jsonl:1: expected either "messages" \(chat\) or "prompt", got neither/],
      ['e.jsonl', '\n\n{"messages": []}\n', /e\.jsonl:3: "messages" must be a non-empty list/],
      ['f.jsonl', '{"messages": [{"content": "x"}]}\n', /f\.jsonl:1: messages\[0\] must be an object with a "role"/],
      ['g.jsonl', '{"prompt": "x", "max_tokens": 0}\n', /g\.jsonl:1: max_tokens must be a whole number from 1/],
      ['h.jsonl', '{"prompt": "  "}\n', /h\.jsonl:1: the prompt must be a non-empty string/],
      ['i.csv', 'text,max_tokens\nx,3\n', /i\.csv:1: no "prompt" column in the header row \(columns: text, max_tokens\)/],
      ['j.csv', 'prompt,max_tokens\nx,3\n,4\n', /j\.csv:3: the prompt must be a non-empty string/],
      ['k.csv', 'prompt,max_tokens\nx,many\n', /k\.csv:2: max_tokens must be a whole number/],
      ['l.jsonl', '\n', /l\.jsonl holds no prompts/],
    ];
    for (const [name, text, re] of cases) {
      const message = errorOf(`prompts: ${writeFile(dir, name, text)}`);
      assert.match(message, re, name);
      // Where in the config, then what in the file: one line.
      assert.match(message, /c\d+\.yml:2 request\.prompts: /, name);
      assert.ok(!message.includes('\n'), `${name}: one line`);
    }
    assert.match(errorOf(`prompts: ${dir}/missing.jsonl`), /cannot read .*missing\.jsonl: ENOENT/);
  });

  it('--prompts FILE is relative to where loadgate runs, not to the config', () => {
    const config = writeFile(
      dir,
      'elsewhere.yml',
      'service: {url: "http://127.0.0.1:9"}\nrequest: {preset: openai}\nload: {stages: [{duration: 1s, users: 1}]}\n',
    );
    const cfg = readConfigFile(config);
    // The tests run from the repository root.
    const plan = buildPlan(applyOverrides(cfg, flagOverrides({ prompts: 'examples/llm-chat/prompts.jsonl' }, cfg.raw)));
    assert.equal(bodiesOf(plan).length, 12);
  });

  it('--bodies FILE and --schema FILE are relative to where loadgate runs too; --schema auto stays a word', () => {
    const config = writeFile(
      dir,
      'plain.yml',
      'service: {url: "http://127.0.0.1:9"}\nrequest: {path: /p}\nload: {stages: [{duration: 1s, users: 1}]}\n',
    );
    const cfg = readConfigFile(config);
    const bodies = applyOverrides(cfg, flagOverrides({ bodies: 'test/fixtures/bodies.jsonl' }, cfg.raw));
    const schema = applyOverrides(cfg, flagOverrides({ schema: 'test/fixtures/schema.json' }, cfg.raw));
    const auto = applyOverrides(cfg, flagOverrides({ schema: 'auto' }, cfg.raw));
    const request = (c: typeof cfg) => (c.raw as { request: Record<string, unknown> }).request;
    assert.equal(request(bodies)['bodies'], resolve('test/fixtures/bodies.jsonl'));
    assert.equal(request(schema)['schema'], resolve('test/fixtures/schema.json'));
    assert.equal(request(auto)['schema'], 'auto');
  });

  it('the CLI refuses a bad prompts file with exit 2, one line and no stack trace', async () => {
    const file = writeFile(dir, 'bad.jsonl', '{"prompt": "x"}\n{"prompt": 3}\n');
    const r = await runNode([
      CLI,
      'run',
      '--url',
      'http://127.0.0.1:9',
      '--preset',
      'vllm',
      '--prompts',
      file,
      '--users',
      '1',
      '--duration',
      '1s',
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${file}:2: the prompt must be a non-empty string`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

describe('synthetic prompts', () => {
  it('the text is exactly the target number of tokens, by the example service tokenizer (words and full stops)', () => {
    const rand = mulberry32(3);
    for (const tokens of [1, 2, 3, 5, 6, 7, 16, 17, 40, 128, 1000]) {
      const text = syntheticText(tokens, rand);
      assert.equal(tokenize(text).length, tokens, `${tokens}: ${text}`);
    }
  });

  it('lengths follow input-tokens: the mean within 2% over 2000 prompts, all within [min, max]', () => {
    const plan = planOf('prompts: {input-tokens: {mean: 60, stdev: 20, min: 20, max: 100}, count: 2000, seed: 5}');
    const lengths = bodiesOf(plan).map((b) => tokenize(b['messages'][0].content).length);
    assert.equal(lengths.length, 2000);
    // A normal truncated symmetrically around its mean keeps the mean; its standard error here is ~0.4.
    assert.ok(Math.abs(mean(lengths) - 60) < 60 * 0.02, `mean ${mean(lengths)}`);
    assert.ok(Math.min(...lengths) >= 20 && Math.max(...lengths) <= 100);
    const sd = Math.sqrt(mean(lengths.map((x) => (x - 60) ** 2)));
    assert.ok(sd > 14 && sd < 20, `stdev ${sd}: a normal of 20 cut at two standard deviations keeps ~88% of its spread`);
  });

  it('max_tokens follow output-tokens per request; a number is a fixed length', () => {
    const plan = planOf('prompts: {input-tokens: 10, output-tokens: {mean: 200, stdev: 50, max: 300}, count: 2000}');
    const max = bodiesOf(plan).map((b) => b['max_tokens'] as number);
    assert.ok(Math.abs(mean(max) - 200) < 200 * 0.02, `mean ${mean(max)}`);
    assert.ok(max.every((m) => Number.isInteger(m) && m >= 1 && m <= 300));
    assert.ok(new Set(max).size > 50, 'drawn per request');
    const fixed = bodiesOf(planOf('prompts: {input-tokens: 10, output-tokens: 33, count: 20}'));
    assert.ok(fixed.every((b) => b['max_tokens'] === 33 && tokenize(b['messages'][0].content).length === 10));
  });

  it('seeded: the same seed gives the same prompts, another seed others; by default the plan seed', () => {
    const texts = (p: Plan) => bodiesOf(p).map((b) => JSON.stringify(b));
    const a = texts(planOf('prompts: {count: 50, seed: 7}'));
    assert.deepEqual(texts(planOf('prompts: {count: 50, seed: 7}')), a);
    const b = texts(planOf('prompts: {count: 50, seed: 8}'));
    assert.equal(a.filter((x, i) => x === b[i]).length, 0, 'no prompt in common');
    assert.notDeepEqual(texts(planOf('prompts: {count: 50}', 'seed: 2\n')), texts(planOf('prompts: {count: 50}', 'seed: 3\n')));
    assert.deepEqual(texts(planOf('prompts: {count: 50}', 'seed: 7\n')), a, "the plan's seed when prompts: gives none");
    // The text and the max_tokens draws are separate streams: another output distribution keeps the prompts.
    const other = bodiesOf(planOf('prompts: {count: 50, seed: 7, output-tokens: {mean: 20, stdev: 5}}'));
    assert.deepEqual(
      other.map((x) => x['messages']),
      bodiesOf(planOf('prompts: {count: 50, seed: 7}')).map((x) => x['messages']),
    );
  });

  it('every prompt starts differently (no shared prefix for a prefix cache to serve)', () => {
    const prompts = syntheticPrompts({ mean: 64, stdev: 0, min: 1, max: 64 }, 500, 1).map((p) => p.prompt!);
    assert.equal(new Set(prompts.map((p) => p.split(' ').slice(0, 4).join(' '))).size, 500);
  });

  it('drawTokens: stdev 0 is the mean; a normal beyond its bounds is drawn again, not piled on them', () => {
    const rand = mulberry32(1);
    assert.equal(drawTokens({ mean: 12.4, stdev: 0, min: 1, max: 100 }, rand), 12);
    const xs = Array.from({ length: 5000 }, () => drawTokens({ mean: 50, stdev: 30, min: 40, max: 60 }, rand));
    const atBounds = xs.filter((x) => x === 40 || x === 60).length;
    // Uniform-ish over the 21 values between: about 2/21 of them at the bounds, not a pile.
    assert.ok(atBounds < 5000 * 0.15, `${atBounds} at the bounds`);
  });

  it('bad distributions and counts are refused, naming the key', () => {
    assert.match(errorOf('prompts: {input-tokens: {stdev: 3}}'), /request\.prompts\.input-tokens\.mean: missing/);
    assert.match(errorOf('prompts: {input-tokens: {mean: 10, min: 20}}'), /expected min <= mean <= max, got min 20, mean 10/);
    assert.match(errorOf('prompts: {output-tokens: 0}'), /request\.prompts\.output-tokens: must be at least 1/);
    assert.match(errorOf('prompts: {count: 0}'), /request\.prompts\.count: must be at least 1/);
    assert.match(errorOf('prompts: {input-tokens: 100000, count: 1000}'), /more text than loadgate holds/);
    assert.match(errorOf('prompts: {inputs: 3}'), /unknown key "inputs"/);
    assert.match(errorOf(`prompts: {file: x.jsonl, count: 3}`), /request\.prompts\.count: only applies to synthetic prompts/);
  });
});

describe('shards split the prompts', () => {
  it('each prompt goes to exactly one shard, k mod n, and the shards together are the whole plan', () => {
    const config = writeFile(
      dir,
      'sharded.yml',
      'service: {url: "http://127.0.0.1:9"}\nrequest: {preset: openai, model: m, prompts: {count: 100, input-tokens: {mean: 20, stdev: 5}}}\n' +
        'load: {stages: [{duration: 1s, users: 6}]}\n',
    );
    const whole = (buildPlan(readConfigFile(config)).endpoints[0]!.body as { bodies: string[] }).bodies;
    for (const count of [2, 3, 7]) {
      const parts = Array.from({ length: count }, (_, i) => {
        const cfg = applyOverrides(readConfigFile(config), [{ path: ['shard'], value: `${i + 1}/${count}` }]);
        const plan = buildPlan(cfg);
        assert.equal(plan.endpoints[0]!.stream, true);
        return (plan.endpoints[0]!.body as { bodies: string[] }).bodies;
      });
      for (const [i, part] of parts.entries())
        assert.deepEqual(
          part,
          whole.filter((_, k) => k % count === i),
        );
      assert.deepEqual(parts.flat().sort(), [...whole].sort(), `${count} shards: every prompt once`);
    }
  });

  it('a file with fewer prompts than shards is refused: two shards would send the same prompt', () => {
    const file = writeFile(dir, 'two.jsonl', '{"prompt": "a"}\n{"prompt": "b"}\n');
    const config = writeFile(
      dir,
      'few.yml',
      `service: {url: "http://127.0.0.1:9"}\nrequest: {preset: openai, prompts: ${file}}\nload: {stages: [{duration: 1s, users: 3}]}\nshard: 1/3\n`,
    );
    assert.throws(() => buildPlan(readConfigFile(config)), /2 bodies .* cannot be split over 3 shards/);
  });
});
