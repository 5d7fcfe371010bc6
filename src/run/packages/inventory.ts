/**
 * Reading an image's package inventory: kbuild's inventory script (core/packages/inventory.ts)
 * run in a throwaway container of the image, as root, with no network, whatever the image's own
 * entrypoint is. The script's output (a line per installed package, hundreds of them) is captured
 * here, never forwarded to a log.
 */
import { err, ok, type Result } from '../../core/model.js';
import { inventoryScript, parseInventory, type Inventory } from '../../core/packages/inventory.js';
import type { Engine } from '../ports.js';
import { runScript } from './script.js';

export interface ReadInventoryOptions {
  readonly signal: AbortSignal;
  /** Kill the container after this many seconds (default 120: dpkg-query takes well under one). */
  readonly timeoutSeconds?: number;
}

/** Exit codes of a container whose program cannot be found (127) or started (126). */
const CANNOT_EXEC = new Set([126, 127]);

/**
 * The image's inventory. An image the script cannot run in (no `sh`) answers an empty inventory
 * with manager `none` and `unreadable` saying why: it has nothing kbuild can ask, which is not an
 * error. The error is the engine's own failure (no such image, timeout, cancelled) or output the
 * parser cannot read.
 */
export async function readInventory(
  engine: Engine,
  image: string,
  o: ReadInventoryOptions,
): Promise<Result<Inventory, string>> {
  const ran = await runScript(engine, image, inventoryScript(), {
    network: 'none',
    signal: o.signal,
    timeoutSeconds: o.timeoutSeconds ?? 120,
  });
  if (!ran.ok) return ran;
  const { lines, exitCode } = ran.value;
  const parsed = parseInventory(lines);
  if (parsed.ok) return parsed;
  const said = lines.filter((l) => l.trim()).at(-1) ?? '';
  if (CANNOT_EXEC.has(exitCode))
    return ok({
      manager: 'none',
      packages: [],
      distro: '',
      distroVersion: '',
      config: '',
      unreadable: `the image has no shell to ask its package database (sh: exit ${exitCode}${said ? `: ${said}` : ''})`,
    });
  return err(`${parsed.error} (exit ${exitCode}${said ? `: ${said}` : ''})`);
}

/**
 * One line for an image's log: `packages: 123 (dpkg, debian 12), 7 added by this image`;
 * `added` undefined when the parents' inventories are not known.
 */
export function inventoryLine(inventory: Inventory, added: number | undefined): string {
  if (inventory.unreadable) return `packages: none — ${inventory.unreadable}`;
  if (inventory.manager === 'none')
    return `packages: none (no package database${inventory.distro ? `, ${distroOf(inventory)}` : ''})`;
  const what = [inventory.manager, ...(inventory.distro ? [distroOf(inventory)] : [])].join(', ');
  const tail = added === undefined ? '' : `, ${added} added by this image`;
  return `packages: ${inventory.packages.length} (${what})${tail}`;
}

const distroOf = (i: Inventory) => [i.distro, i.distroVersion].filter(Boolean).join(' ');
