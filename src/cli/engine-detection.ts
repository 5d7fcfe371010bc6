/**
 * The engine's detection, started as early as a command can: its probes are engine processes,
 * which run while kbuild loads its modules and reads and renders the family.
 */
type Detection = ReturnType<(typeof import('../adapters/engines.js'))['detectEngine']>;

/**
 * Starts detecting the engine `opts` asks for. A command that will observe a family starts it
 * first and hands it over (`ObserveSettings.detecting`), so the client probes (a few engine
 * processes) run while the workspace is read and rendered instead of after it.
 */
export function detectEngineEarly(opts: {
  readonly engine?: 'docker' | 'podman';
  readonly builder?: string;
}): Detection {
  // Loaded here, not at start-up: only the commands that run an engine need its adapters.
  return import('../adapters/engines.js').then(({ detectEngine }) =>
    detectEngine(opts.engine, opts.builder ? { builder: opts.builder } : {}),
  );
}

/**
 * The detection started once the engine adapters are loaded (in a wrapper: a promise returned
 * bare would be awaited with them). Loading them first, before a command imports the rest of its
 * modules, lets the probes start at once rather than queue behind those modules' file reads.
 */
export async function startDetection(opts: {
  readonly engine?: 'docker' | 'podman';
  readonly builder?: string;
}): Promise<{ readonly detecting: Detection }> {
  await import('../adapters/engines.js');
  return { detecting: detectEngineEarly(opts) };
}
