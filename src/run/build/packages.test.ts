/**
 * The build loop reads each built image's package inventory (after its smoke test) and the state
 * keeps it: over a real observed plan with the fake engine (test/helpers/build-world.ts), whose
 * base holds an os-release and a dpkg status file that the family's Dockerfiles append to.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildWorld, type BuildWorld } from '../../../test/helpers/build-world.js';

const STATUS = '/var/lib/dpkg/status';
const paragraph = (name: string, version: string, status = 'install ok installed') =>
  `Package: ${name}\nStatus: ${status}\nArchitecture: amd64\nVersion: ${version}\n`;

let w: BuildWorld;
beforeEach(() => {
  w = buildWorld({
    seeds: {
      'busybox:latest': {
        files: {
          '/etc/os-release':
            'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
          [STATUS]: [
            paragraph('apt', '2.6.1'),
            paragraph('base-files', '12.4+deb12u7'),
            paragraph('old-tool', '1.0-1', 'deinstall ok config-files'),
          ].join('\n'),
        },
      },
    },
  });
  // tools installs a package of its own: a paragraph appended to the dpkg status file.
  w.write(
    'images/tools/Dockerfile.j2',
    "FROM {{ image_ref('base') }}\n" +
      `RUN echo "" >> ${STATUS} && echo "Package: curl" >> ${STATUS} && echo "Status: install ok installed" >> ${STATUS} && echo "Architecture: amd64" >> ${STATUS} && echo "Version: 7.88.1-10" >> ${STATUS}\n`,
  );
});
afterEach(() => w.remove());

const one = { threads: 1 };
const names = (n: string) => w.state.images[n]?.packages?.packages.map((p) => p.name);
const packageLine = (logs: ReadonlyMap<string, readonly string[]>, n: string) =>
  logs.get(n)?.filter((l) => l.startsWith('kbuild: packages'));

describe('package inventories in the build loop', () => {
  it('reads each built image’s packages into the state and logs one line, never the package lines', async () => {
    const r = await w.run(one);
    expect(r.summary.ok).toBe(true);
    expect(w.state.images['base']!.packages).toEqual({
      manager: 'dpkg',
      distro: 'debian',
      distroVersion: '12',
      config: expect.stringMatching(/^[0-9a-f]{64}$/),
      packages: [
        { name: 'apt', arch: 'amd64', version: '2.6.1', source: 'apt' },
        { name: 'base-files', arch: 'amd64', version: '12.4+deb12u7', source: 'base-files' },
      ],
    });
    expect(names('tools')).toEqual(['apt', 'base-files', 'curl']);
    expect(names('lib')).toEqual(['apt', 'base-files']);
    // edge's base (alpine here) has no package database: an empty inventory, said as such.
    expect(w.state.images['edge']!.packages).toMatchObject({ manager: 'none', packages: [] });
    expect(packageLine(r.logs, 'base')).toEqual([
      'kbuild: packages: 2 (dpkg, debian 12), 2 added by this image',
    ]);
    expect(packageLine(r.logs, 'tools')).toEqual([
      'kbuild: packages: 3 (dpkg, debian 12), 1 added by this image',
    ]);
    expect(packageLine(r.logs, 'edge')).toEqual(['kbuild: packages: none (no package database)']);
    expect([...r.logs.values()].flat().filter((l) => l.startsWith('KBI'))).toEqual([]);
    // Read in a container of the image's fp reference, after its build.
    const fpRef = `kt/tools:${r.fpTag('tools')}`;
    expect(r.calls.indexOf(`run ${fpRef}`)).toBeGreaterThan(r.calls.indexOf('built kt/tools:t1'));
  });

  it('keeps the inventory of an unchanged image without reading it again, and counts a rebuilt child against it', async () => {
    await w.run(one);
    const before = w.state.images['base']!.packages;
    w.write('images/lib/lib.txt', 'the lib context, changed\n');
    const r = await w.run(one);
    expect(r.image('base').status).toBe('fresh');
    expect(r.image('lib').status).toBe('built');
    expect(r.calls.filter((c) => c.startsWith('run '))).toEqual([
      `run kt/lib:${r.fpTag('lib')}`,
      `run kt/app:${r.fpTag('app')}`,
    ]);
    expect(w.state.images['base']!.packages).toEqual(before);
    expect(names('lib')).toEqual(['apt', 'base-files']);
    // base's inventory comes from the state: lib added nothing over it.
    expect(packageLine(r.logs, 'lib')).toEqual([
      'kbuild: packages: 2 (dpkg, debian 12), 0 added by this image',
    ]);
  });

  it('an image without a shell gets an empty inventory that says why; output it cannot read is logged and fails nothing', async () => {
    w.engine.scriptRun('tools', {
      exitCode: 127,
      output: ['exec: "sh": executable file not found in $PATH'],
    });
    w.engine.scriptRun('lib', { exitCode: 2, output: ['Segmentation fault'] });
    const r = await w.run(one);
    expect(r.summary.ok).toBe(true);
    expect(r.image('tools').status).toBe('built');
    expect(r.image('lib').status).toBe('built');
    expect(w.state.images['tools']!.packages).toEqual({
      manager: 'none',
      packages: [],
      distro: '',
      distroVersion: '',
      config: '',
      unreadable:
        'the image has no shell to ask its package database (sh: exit 127: exec: "sh": executable file not found in $PATH)',
    });
    expect(packageLine(r.logs, 'tools')).toEqual([
      'kbuild: packages: none — the image has no shell to ask its package database (sh: exit 127: exec: "sh": executable file not found in $PATH)',
    ]);
    expect(w.state.images['lib']!.packages).toBeUndefined();
    expect(w.state.images['lib']!.imageId).toBe(r.image('lib').imageId);
    expect(packageLine(r.logs, 'lib')).toEqual([
      'kbuild: packages not read: the image printed no package inventory (does it have a shell?) (exit 2: Segmentation fault)',
    ]);
    // app stands on lib, whose packages are unknown: no count of what app added.
    expect(packageLine(r.logs, 'app')).toEqual(['kbuild: packages: 2 (dpkg, debian 12)']);
  });

  it('reads the inventory after the smoke test, and not for an image whose test failed', async () => {
    w.write('images/tools/image.yaml', 'test:\n  command: cat /etc/base.txt\n');
    w.write('images/lib/image.yaml', 'test:\n  command: cat /no/such/file\n');
    const r = await w.run({ ...one, test: true });
    expect(r.image('tools').status).toBe('built');
    expect(r.image('lib').status).toBe('failed');
    const runs = r.calls.filter((c) => c.startsWith('run '));
    expect(runs.filter((c) => c.includes('kt/tools:'))).toHaveLength(2);
    expect(runs.filter((c) => c.includes('kt/lib:'))).toHaveLength(1);
    expect(names('tools')).toEqual(['apt', 'base-files', 'curl']);
    expect(w.state.images['lib']).toBeUndefined();
  });
});
