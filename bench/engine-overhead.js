// kbuild's per-image overhead over the plain engine, cold, on both docker build paths: a
// generated 12-image busybox family (3 levels of 4; each image `RUN sleep 1/1/2 s`), built by
// `kbuild build --threads 4` (the real CLI, whole process) and by a level-by-level `xargs -P4`
// loop of plain `docker build` of the same rendered Dockerfiles. Runs are interleaved (kbuild,
// loop, loop, kbuild, ...) and every run starts cold: the family's images are removed, and each
// run renders the family with a new `nonce` variable that every RUN step echoes, so no step can
// hit a cache (`rmi` alone leaves BuildKit's). A third contestant, the labelled loop, is the same
// loop with what kbuild puts into every image added: its labels as the one LABEL instruction kbuild
// appends (the same code, on the labels kbuild's images carry) and a second tag (the fp tag). It
// splits kbuild's ratio into the engine's price of those (labelled loop ÷ loop) and kbuild's own
// overhead (kbuild ÷ labelled loop). Not `docker builder prune -af` by default: on this
// shared host it crashed dockerd 20.10 twice (a nil pointer in BuildKit's puller.getRef) when it
// ran while someone else's BuildKit build was pulling its base; `--prune` uses it anyway (an idle
// host). Prints medians and the ratios. Not a test: nothing here asserts a time.
//
//   node bench/engine-overhead.js [--rounds N] [--bin PATH/TO/kbuild.js] [--paths buildkit,legacy]
//                                 [--prune]
//
// Needs docker 20.10's client at /usr/bin/docker (BuildKit built in), a daemon, and a local
// `busybox:latest` (scripts/setup-host.sh makes one).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { appendLabels } from '../dist/core/dockerfile/label-instruction.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const DOCKER = '/usr/bin/docker';
const NS = 'kbuild-eo';
const TAG = 'eo';
/** Level widths and each level's sleep (seconds). */
const LEVELS = [
  { width: 4, sleep: 1 },
  { width: 4, sleep: 1 },
  { width: 4, sleep: 2 },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The family as a kbuild project; answers the image names level by level. */
export function writeSleepFamily(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'profiles'), { recursive: true });
  writeFileSync(join(dir, 'kbuild.yaml'), `namespace: ${NS}\ntag: "${TAG}"\nmaintainer: bench\n`);
  writeFileSync(
    join(dir, 'profiles', 'p.yaml'),
    'distro: busybox\ndistro_tag: latest\nbase_image: busybox:latest\nnetwork: none\npackage_manager: apt\nvars: {nonce: "0"}\n',
  );
  const levels = [];
  LEVELS.forEach(({ width, sleep }, level) => {
    const names = [];
    for (let k = 0; k < width; k++) {
      const name = `l${level}-${k}`;
      const from = level === 0 ? '{{ base_image }}' : `{{ image_ref('l${level - 1}-${k}') }}`;
      mkdirSync(join(dir, 'images', name), { recursive: true });
      writeFileSync(
        join(dir, 'images', name, 'Dockerfile.j2'),
        `FROM ${from}\nRUN sleep ${sleep} && echo {{ image_name }} {{ nonce }} > /etc/{{ image_name }}.txt\n`,
      );
      names.push(name);
    }
    levels.push(names);
  });
  return levels;
}

function sh(file, args, env = process.env) {
  return execFileSync(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

let prune = false;

/** Cold: none of the family's images (any tag); with --prune, no BuildKit cache either. */
function cold() {
  const ids = sh(DOCKER, ['images', '-q', '--filter', `reference=${NS}/*`])
    .split('\n')
    .filter(Boolean);
  if (ids.length) {
    try {
      sh(DOCKER, ['rmi', '-f', ...new Set(ids)]);
    } catch {
      // an id listed twice or already gone
    }
  }
  if (prune) sh(DOCKER, ['builder', 'prune', '-af']);
}

/** Runs `fn(nonce)` cold, timed; `prepare(nonce)` (untimed) first. */
let runs = 0;
function timed(fn, prepare = () => {}) {
  const nonce = `${process.pid}-${runs++}`;
  cold();
  prepare(nonce);
  const t0 = performance.now();
  fn(nonce);
  return performance.now() - t0;
}

export function engineOverheadBench({ rounds = 3, bin, paths = ['buildkit', 'legacy'] } = {}) {
  const kbBin = bin ?? join(here, '..', 'bin', 'kbuild.js');
  const dir = join(here, 'out', 'engine-overhead');
  const levels = writeSleepFamily(dir);
  const work = join(dir, '.kbuild', 'bench-render');
  const kb = (args, env) =>
    execFileSync(process.execPath, [kbBin, ...args, '-C', dir], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    }).toString();
  // The loop builds what kbuild renders (with the run's nonce), in kbuild's own image names.
  const render = (nonce) =>
    kb(['render', '-p', 'p', '--var', `nonce=${nonce}`, '--work-dir', work], process.env);
  const results = [];
  for (const path of paths) {
    const buildkit = path === 'buildkit' ? '1' : '0';
    // /usr/bin/docker first on PATH: the client the loop uses is the one kbuild finds first.
    const env = {
      ...process.env,
      CI: 'true',
      DOCKER_BUILDKIT: buildkit,
      PATH: `/usr/bin:${process.env.PATH ?? ''}`,
    };
    const kbuild = (nonce) =>
      kb(
        [
          'build',
          '-p',
          'p',
          '-q',
          '--threads',
          '4',
          '--lock-timeout',
          '600',
          '--var',
          `nonce=${nonce}`,
        ],
        env,
      );
    // `extra`: the labelled loop's second tag.
    const loop = (extra = '') => {
      for (const names of levels) {
        execFileSync(
          'sh',
          [
            '-c',
            `printf '%s\\n' "$@" | xargs -P4 -I{} ${DOCKER} build -q --network none -t ${NS}/{}:${TAG} ${extra} ${work}/{} >/dev/null`,
            'loop',
            ...names,
          ],
          { env, stdio: ['ignore', 'ignore', 'inherit'] },
        );
      }
    };
    // The labels of kbuild's last build of each image (their values differ from run to run only
    // in the fingerprint, not in length), appended to the rendered Dockerfiles as kbuild does.
    let labels = new Map();
    const capture = () => {
      labels = new Map(
        levels.flat().map((n) => {
          const ref = `${NS}/${n}:${TAG}`;
          return [
            n,
            JSON.parse(
              sh(DOCKER, ['image', 'inspect', '--format', '{{json .Config.Labels}}', ref]),
            ),
          ];
        }),
      );
    };
    const labelled = (nonce) => {
      render(nonce);
      for (const [n, l] of labels) {
        const file = join(work, n, 'Dockerfile');
        writeFileSync(file, appendLabels(readFileSync(file, 'utf8'), l).text);
      }
    };
    const labelledLoop = () => loop(`-t ${NS}/{}:fp-${'0'.repeat(24)}`);
    timed(kbuild);
    capture();
    const k = [];
    const l = [];
    const ll = [];
    for (let r = 0; r < rounds; r++) {
      // Interleaved, the order turning, so a neighbour's load falls on all alike.
      const runs = [
        () => {
          k.push(timed(kbuild));
          capture();
        },
        () => l.push(timed(() => loop(), render)),
        () => ll.push(timed(labelledLoop, labelled)),
      ];
      for (let i = 0; i < runs.length; i++) runs[(r + i) % runs.length]();
      console.log(
        `${path} round ${r + 1}: kbuild ${sec(k.at(-1))}, loop ${sec(l.at(-1))}, labelled loop ${sec(ll.at(-1))} (kbuild ÷ loop ${(k.at(-1) / l.at(-1)).toFixed(2)}, labelled ÷ loop ${(ll.at(-1) / l.at(-1)).toFixed(2)}, kbuild ÷ labelled ${(k.at(-1) / ll.at(-1)).toFixed(2)})`,
      );
    }
    const ratio = (a, b) => median(a.map((x, i) => x / b[i]));
    const row = {
      path,
      rounds,
      kbuild: median(k),
      loop: median(l),
      labelledLoop: median(ll),
      ratio: ratio(k, l),
      labelRatio: ratio(ll, l),
      ownRatio: ratio(k, ll),
    };
    console.log(
      `${path}: kbuild ${sec(row.kbuild)}, loop ${sec(row.loop)}, labelled loop ${sec(row.labelledLoop)} (medians of ${rounds}); median of round ratios: kbuild ÷ loop ${row.ratio.toFixed(2)}, labelled loop ÷ loop ${row.labelRatio.toFixed(2)}, kbuild ÷ labelled loop ${row.ownRatio.toFixed(2)}`,
    );
    results.push(row);
  }
  cold();
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  prune = process.argv.includes('--prune');
  engineOverheadBench({
    rounds: Number(arg('--rounds', '3')),
    bin: arg('--bin', undefined),
    paths: arg('--paths', 'buildkit,legacy').split(','),
  });
}

/** The RESULTS.md section for rows of engineOverheadBench (each with `who`: before, after, ...). */
export function engineOverheadTable(rows) {
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
  return [
    `## kbuild's per-image overhead over the plain engine, cold (12 busybox images, 3 levels of 4, RUN sleep 1/1/2 s; 4 threads)`,
    '',
    "`node bench/engine-overhead.js` (the real bin, whole process): `kbuild build --threads 4` vs a level-by-level `xargs -P4` loop of plain `/usr/bin/docker build` of the same rendered Dockerfiles, and vs the labelled loop (the same loop with kbuild's one LABEL instruction appended and a second tag), interleaved, each run cold (the images removed, a new nonce in every RUN step so no cache can hit). Ratios = median over rounds of the ratio within a round.",
    '',
    "| kbuild | build path | rounds | kbuild | loop | labelled loop | kbuild ÷ loop | labelled loop ÷ loop (the engine's price of the labels and fp tag) | kbuild ÷ labelled loop (kbuild's own) | goal (kbuild ÷ loop) |",
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.who} | ${r.path === 'buildkit' ? 'BuildKit (DOCKER_BUILDKIT=1)' : 'legacy (DOCKER_BUILDKIT=0)'} | ${r.rounds} | ${s(r.kbuild)} | ${s(r.loop)} | ${s(r.labelledLoop)} | ${r.ratio.toFixed(2)} | ${r.labelRatio.toFixed(2)} | ${r.ownRatio.toFixed(2)} | ${r.path === 'buildkit' ? '<= 1.05' : '<= 1.10'} |`,
    ),
  ].join('\n');
}
