// Where a BuildKit build's time goes, read from kbuild's per-image build logs (.kbuild/logs/<run>/
// <image>.log: BuildKit's plain progress, each output line stamped with the seconds since its step
// started, each step ending with `#N DONE <s>s`). An apt RUN step is split at apt's and dpkg's own
// lines: index update (until the first "Reading package lists..."), resolve (until "Need to get"),
// download (until the last "Fetched"), unpack (until the first "Setting up"), configure (the rest).
// Other RUN steps count as "other run", the export as "export". Legacy-builder logs carry no times.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PHASES = [
  'update',
  'resolve',
  'download',
  'unpack',
  'configure',
  'other run',
  'export',
  'other',
];

/**
 * Seconds per phase of one image's log, and what its `apt-get update`s fetched (`Get:` lines):
 * index files (Packages, ...) and release files (InRelease: fetched again whenever the mirror
 * does not answer "not modified", which deb.debian.org's CDN does not; 240 kB for bookworm).
 */
export function logPhases(text) {
  const steps = new Map();
  const step = (id) => {
    let s = steps.get(id);
    if (!s) steps.set(id, (s = { title: '', lines: [], done: undefined }));
    return s;
  };
  for (const line of text.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const s = step(m[1]);
    const rest = m[2];
    const done = /^DONE ([\d.]+)s$/.exec(rest);
    if (done) s.done = Number(done[1]);
    else if (/^\[.*\] |^exporting to image$/.test(rest) && !s.title) s.title = rest;
    else {
      const t = /^([\d.]+) (.*)$/.exec(rest);
      if (t) s.lines.push([Number(t[1]), t[2]]);
    }
  }
  const out = Object.fromEntries(PHASES.map((p) => [p, 0]));
  let indexGets = 0;
  let releaseGets = 0;
  for (const s of steps.values()) {
    if (s.done === undefined) continue;
    if (s.title === 'exporting to image') {
      out.export += s.done;
      continue;
    }
    if (!/\] RUN /.test(s.title)) {
      out.other += s.done;
      continue;
    }
    if (!/apt-get (update|install)/.test(s.title)) {
      out['other run'] += s.done;
      continue;
    }
    const at = (re, last = false) => {
      const hits = s.lines.filter(([, l]) => re.test(l));
      const hit = last ? hits.at(-1) : hits[0];
      return hit?.[0];
    };
    const lists = at(/^Reading package lists/) ?? 0;
    const need = at(/^Need to get|^0 upgraded, 0 newly installed/) ?? lists;
    const fetched = Math.max(need, at(/^Fetched /, true) ?? need);
    const setup = Math.max(fetched, at(/^Setting up /) ?? s.done);
    // Index files (Packages, Sources, ...), not the small InRelease a fresh index is checked with.
    const gets = s.lines.filter(([t, l]) => t <= lists && /^Get:\d+ /.test(l));
    indexGets += gets.filter(([, l]) => !/ (In)?Release(\.gpg)? \[/.test(l)).length;
    releaseGets += gets.length - gets.filter(([, l]) => !/ (In)?Release(\.gpg)? \[/.test(l)).length;
    out.update += lists;
    out.resolve += need - lists;
    out.download += fetched - need;
    out.unpack += setup - fetched;
    out.configure += Math.max(0, s.done - setup);
  }
  return { phases: out, indexGets, releaseGets };
}

/** logPhases of every image log of one run's log directory, summed; and per image. */
export function runPhases(logsDir) {
  const total = Object.fromEntries(PHASES.map((p) => [p, 0]));
  const images = {};
  let indexGets = 0;
  let releaseGets = 0;
  for (const f of readdirSync(logsDir).filter((n) => n.endsWith('.log'))) {
    const r = logPhases(readFileSync(join(logsDir, f), 'utf8'));
    images[f.slice(0, -4)] = r;
    indexGets += r.indexGets;
    releaseGets += r.releaseGets;
    for (const p of PHASES) total[p] += r.phases[p];
  }
  return { total, images, indexGets, releaseGets };
}
