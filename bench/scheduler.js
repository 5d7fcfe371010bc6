// Scheduler quality on the large-family shape (187 images, level widths 1/28/54/102/2, largest
// fan-out 29) with seeded lognormal build durations, on a virtual clock: the real scheduler
// (dist/run/scheduler.js) drives fake builds that finish when simulated time says so.
//   makespan / lower bound, lower bound = max(critical path, total work / threads)
// and the same DAG run level by level (every image waits for the whole previous level, as a CI
// matrix per level does).
import { setImmediate as tick } from 'node:timers/promises';
import { rng } from './families.js';
import { remainingPath, schedule } from '../dist/run/scheduler.js';

/** The large-family shape as jobs with durations (seconds). */
export function largeFamily(seed = 11) {
  const random = rng(seed);
  const normal = () =>
    Math.sqrt(-2 * Math.log(random() || 1e-9)) * Math.cos(2 * Math.PI * random());
  const duration = () => Math.exp(Math.log(60) + 0.8 * normal()); // median 60 s, long tail
  const widths = [1, 28, 54, 102, 2];
  const levels = [];
  const jobs = [];
  widths.forEach((w, level) => {
    const names = [];
    for (let k = 0; k < w; k++) {
      const name = `l${level}-${k}`;
      const above = levels[level - 1] ?? [];
      let parents = [];
      if (level === 2)
        parents = [k < 29 ? above[0] : above[1 + Math.floor(random() * (above.length - 1))]];
      else if (above.length) parents = [above[Math.floor(random() * above.length)]];
      jobs.push({ name, parents, weight: duration() });
      names.push(name);
    }
    levels.push(names);
  });
  return { jobs, levels };
}

/** Runs the scheduler on a virtual clock; resolves to the makespan in simulated seconds. */
async function simulate(jobs, threads) {
  const weight = new Map(jobs.map((j) => [j.name, j.weight]));
  let now = 0;
  const timers = [];
  const controller = new AbortController();
  let finished = false;
  const run = schedule(jobs, {
    threads,
    pushThreads: 1,
    retries: 0,
    pushRetries: 0,
    failFast: false,
    signal: controller.signal,
    build: (name) =>
      new Promise((resolve) =>
        timers.push({
          at: now + weight.get(name),
          resolve: () => resolve({ ok: true, value: { imageId: name } }),
        }),
      ),
    emit: () => {},
    now: () => now,
    sleep: async () => {},
  }).then(() => (finished = true));
  while (!finished) {
    await tick();
    if (finished || timers.length === 0) continue;
    timers.sort((a, b) => a.at - b.at);
    const t = timers.shift();
    now = t.at;
    t.resolve();
  }
  await run;
  return now;
}

export async function schedulerBench() {
  const { jobs, levels } = largeFamily();
  const total = jobs.reduce((s, j) => s + j.weight, 0);
  const critical = Math.max(...remainingPath(jobs).values());
  // Level by level: each image depends on every image of the level above.
  const levelJobs = jobs.map((j) => {
    const level = Number(j.name.slice(1, j.name.indexOf('-')));
    return { ...j, parents: level ? levels[level - 1] : [] };
  });
  const rows = [];
  for (const threads of [4, 8, 16]) {
    const bound = Math.max(critical, total / threads);
    const dag = await simulate(jobs, threads);
    const byLevel = await simulate(levelJobs, threads);
    rows.push({ threads, bound, dag, byLevel });
  }
  return { total, critical, rows };
}
