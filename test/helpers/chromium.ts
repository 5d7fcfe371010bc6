/** Headless Chromium (Debian's `chromium`) for tests that look at what a page shows. */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BROWSER = 'chromium';

/** Fails (never skips) when there is no Chromium, saying how to get it. */
export function requireChromium(): void {
  try {
    execFileSync(BROWSER, ['--version'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    throw new Error(
      "no headless browser: run `sudo scripts/setup-host.sh` (it installs Debian's chromium), or `apt-get install -y chromium`",
    );
  }
}

/**
 * Opens `file` in a fresh headless Chromium with `args`. Every proxied request goes to a port where
 * nothing listens, so a page that needed the network would show its holes.
 */
async function browse(file: string, args: readonly string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'kbuild-chromium-'));
  try {
    const { stdout } = await run(
      BROWSER,
      [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        `--user-data-dir=${profile}`,
        '--no-first-run',
        '--proxy-server=127.0.0.1:9',
        ...args,
        pathToFileURL(file).href,
      ],
      { timeout: 90_000, maxBuffer: 32 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * The page's DOM after loading, and the URLs the page itself asked the network for (from
 * Chromium's net log: requests on behalf of a file:// document; the browser's own background
 * requests are not the page's).
 */
export async function loadPage(file: string): Promise<{ dom: string; requests: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-netlog-'));
  try {
    const netLog = join(dir, 'net.json');
    const dom = await browse(file, ['--dump-dom', `--log-net-log=${netLog}`]);
    return { dom, requests: pageRequests(readFileSync(netLog, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface NetLog {
  constants: { logEventTypes: Record<string, number> };
  events: { type: number; params?: { url?: string; network_isolation_key?: string } }[];
}

function pageRequests(text: string): string[] {
  const log = JSON.parse(text) as NetLog;
  const start = log.constants.logEventTypes['URL_REQUEST_START_JOB'];
  return log.events
    .filter(
      (e) =>
        e.type === start &&
        e.params?.network_isolation_key?.startsWith('file://') &&
        !e.params.url?.startsWith('file:'),
    )
    .map((e) => e.params!.url!);
}

/** A screenshot of the page's first `width`x`height` pixels, as PNG at `png`. */
export async function screenshot(file: string, png: string, width = 1400, height = 1000) {
  await browse(file, [`--screenshot=${png}`, `--window-size=${width},${height}`]);
}

/**
 * Runs `script` (the body of a function returning JSON-able data) in `file` as Chromium lays it
 * out in a `width`-pixel window, and gives back what it returned. The page itself allows no
 * scripts (its CSP), so a copy without that policy, beside the original (relative links hold),
 * is what is loaded; the answer comes back through the dumped DOM.
 */
export async function measurePage(file: string, script: string, width = 1400): Promise<unknown> {
  const html = readFileSync(file, 'utf8').replace(
    /<meta http-equiv="Content-Security-Policy"[^>]*>/,
    '',
  );
  const copy = join(dirname(file), `.measure-${process.pid}-${Date.now()}.html`);
  const probe = `<script>addEventListener('load',()=>{const out=document.createElement('pre');out.id='kbuild-measure';out.textContent=JSON.stringify((()=>{${script}})());document.body.append(out);});</script>`;
  writeFileSync(copy, html.replace('</body>', `${probe}</body>`));
  try {
    const dom = await browse(copy, [
      '--dump-dom',
      `--window-size=${width},1000`,
      '--virtual-time-budget=5000',
    ]);
    const m = /<pre id="kbuild-measure">([^<]*)<\/pre>/.exec(dom);
    if (!m) throw new Error(`the measuring script gave no answer:\n${dom.slice(-2000)}`);
    return JSON.parse(
      m[1]!
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    );
  } finally {
    rmSync(copy, { force: true });
  }
}
