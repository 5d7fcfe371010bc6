/**
 * Reading an engine's build output as it goes by: which Dockerfile step is running (BuildKit's
 * `#6 [3/7] RUN …`, the legacy builder's `Step 3/7 : RUN …`, podman and buildah's `STEP 3/7: RUN …`),
 * and which lines are bookkeeping nobody reads when a build fails (`#5 sha256:…`, `#5 DONE 0.1s`).
 */

/** BuildKit: `#6 [3/7] RUN …`, `#6 [builder 3/7] RUN …` (a named stage); not `[internal]`. */
const BUILDKIT_STEP = /^#\d+ \[((?:[^\]\s]+ )?\d+\/\d+)\] (.*)$/;
/** The legacy builder: `Step 3/7 : RUN …`; podman and buildah: `STEP 3/7: RUN …`. */
const LEGACY_STEP = /^(?:Step|STEP) (\d+\/\d+) ?: (.*)$/;

/** `[3/7] RUN apt-get install …` when the line starts a Dockerfile step, else undefined. */
export function stepOf(line: string): string | undefined {
  const m = BUILDKIT_STEP.exec(line.trim()) ?? LEGACY_STEP.exec(line.trim());
  return m ? `[${m[1]}] ${m[2]}` : undefined;
}

/**
 * BuildKit's bookkeeping: a step's digest, its end (`DONE 0.1s`, `CACHED`), context and
 * definition transfers, internal steps, exporting, the legacy builder's layer ids; blank lines;
 * kbuild's own `building with …` banner. What a RUN printed, errors and step headers are kept.
 */
const NOISE: readonly RegExp[] = [
  /^\s*$/,
  /^kbuild: building with /,
  /^#\d+ building with /,
  /^#\d+ sha256:[0-9a-f]+/,
  /^#\d+ (?:DONE \d+(?:\.\d+)?s|CACHED|\.\.\.)$/,
  /^#\d+ \[(?:internal|auth)\]/,
  /^#\d+ (?:transferring (?:dockerfile|context)|resolve |extracting sha256:|exporting |writing image |naming to |unpacking |preparing layers|loading layer )/,
  /^ ---> /,
  /^Removing intermediate container /,
  /^Sending build context to /,
];

/** True for a line of build bookkeeping (see NOISE): not worth a failure tail or the live view. */
export const isNoise = (line: string) => NOISE.some((r) => r.test(line));
