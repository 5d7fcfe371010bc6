/** Host facts `kbuild doctor` reports that are not the engine's: registry reachability, emulation. */
import { readdir, readFile } from 'node:fs/promises';

/** Pings a registry's API root (/v2/): 200 or 401 means a registry answers; `status`: its answer, if any. */
export async function pingRegistry(
  registry: string,
  timeoutMs = 5000,
): Promise<{ ok: boolean; detail: string; status?: number }> {
  const loopback = /^(127\.|localhost(:|$)|\[::1\])/.test(registry);
  const url = `${loopback ? 'http' : 'https'}://${registry}/v2/`;
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const ok = r.status === 200 || r.status === 401;
    return {
      ok,
      status: r.status,
      detail: `${url} answered ${r.status}${r.status === 401 ? ' (authentication required)' : ''}`,
    };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { ok: false, detail: `${url}: ${cause ?? (e as Error).message}` };
  }
}

/** Architectures the kernel runs through qemu (binfmt_misc entries named qemu-*, enabled). */
export async function emulatedArchitectures(): Promise<string[]> {
  const dir = '/proc/sys/fs/binfmt_misc';
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.filter((x) => x.startsWith('qemu-'))) {
    const text = await readFile(`${dir}/${e}`, 'utf8').catch(() => '');
    if (text.startsWith('enabled')) out.push(e.slice('qemu-'.length));
  }
  return out.sort();
}

/** The registry `scripts/setup-host.sh` starts (scripts/host/settings.sh REGISTRY_ADDR). */
export const SETUP_REGISTRY = '127.0.0.1:5000';

/** Whether `registry` is the one the setup script starts (so the script is the fix when it is down). */
export const isSetupRegistry = (registry: string) =>
  registry === SETUP_REGISTRY || registry === 'localhost:5000';
