/**
 * The shipped family (images/, profiles/): its shape, every profile rendering, overrides and
 * package customisation on its real templates, the dnf side rendering, and the sources of
 * debian-source. No engine: the real builds are in the quick start and bench/RESULTS.md.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runCli } from './helpers/run-cli.js';

const root = fixture('../..');
const work = mkdtempSync(join(tmpdir(), 'kbuild-shipped-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the project (images, profiles, kbuild.yaml) with extra files. */
function projectWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, 'p-'));
  for (const f of ['kbuild.yaml', 'images', 'profiles'])
    cpSync(join(root, f), join(dir, f), { recursive: true });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  return dir;
}

const render = async (dir: string, ...args: string[]) => {
  const r = await runCli(['render', '--stdout', '--skip-parents', ...args], dir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
};

describe('the shipped family', () => {
  it('has at least 20 images on at least 4 levels, and every profile renders', async () => {
    const r = await runCli(['validate', '--all-profiles'], root);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const p of ['debian-binary', 'debian-source', 'ubuntu-binary', 'ubuntu-source'])
      expect(r.stdout).toContain(`profile ${p}: ok`);
    const g = await runCli(['graph', '-p', 'debian-binary', '--format', 'json'], root);
    const graph = JSON.parse(g.stdout) as { nodes: { name: string; parents: string[] }[] };
    expect(graph.nodes.length).toBeGreaterThanOrEqual(20);
    const parents = new Map(graph.nodes.map((n) => [n.name, n.parents]));
    const depth = (n: string): number => 1 + Math.max(0, ...(parents.get(n) ?? []).map(depth));
    expect(Math.max(...graph.nodes.map((n) => depth(n.name)))).toBeGreaterThanOrEqual(4);
  });

  it('gives every image template the header and footer blocks overrides rely on', () => {
    const images = readdirSync(join(root, 'images'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('Dockerfile.j2'))
      .map((f) => f.split('/').at(-2)!);
    expect(images.length).toBeGreaterThanOrEqual(20);
    return Promise.all(
      images.map(async (name) => {
        const block = name.replace(/[-.]/g, '_');
        const r = await runCli(
          [
            'render',
            '-p',
            'debian-source',
            '--stdout',
            '--skip-parents',
            name,
            '--template-override',
            'o.j2',
          ],
          projectWith({
            'o.j2': `{% extends parent_template %}{% block ${block}_header %}RUN echo h-${name}{% endblock %}{% block ${block}_footer %}RUN echo f-${name}{% endblock %}`,
          }),
        );
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain(`RUN echo h-${name}`);
        expect(r.stdout.trimEnd().endsWith(`RUN echo f-${name}`)).toBe(true);
      }),
    );
  });

  it('lets an override file redefine blocks and set variables (packages added and removed)', async () => {
    const dir = projectWith({
      'site.j2': [
        '{% extends parent_template %}',
        "{% set memcached_packages_append = ['libmemcached-tools'] %}",
        "{% set memcached_packages_remove = ['memcached'] %}",
        '{% block memcached_header %}RUN echo "site header"{% endblock %}',
        '{% block memcached_footer %}{{ super() }}LABEL site.example="1"{% endblock %}',
      ].join('\n'),
    });
    const out = await render(
      dir,
      '-p',
      'debian-binary',
      'memcached',
      '--template-override',
      'site.j2',
    );
    expect(out).toMatch(/^FROM kbuild\/service-base:debian-binary\nRUN echo "site header"$/m);
    expect(out).toMatch(/apt-get install -y --no-install-recommends libmemcached-tools \\$/m);
    expect(out).not.toMatch(/install .*\bmemcached\b \\$/m);
    expect(out.trimEnd().endsWith('LABEL site.example="1"')).toBe(true);
  });

  it('lets a profile add and remove packages per image without touching templates', async () => {
    const dir = projectWith({
      'profiles/site.yaml': [
        'extends: debian-binary',
        'image_settings:',
        '  nginx:',
        '    extra_packages: [nginx-extras]',
        '    remove_packages: [nginx]',
      ].join('\n'),
    });
    const out = await render(dir, '-p', 'site', 'nginx');
    expect(out).toContain('nginx-extras');
    expect(out).not.toMatch(/install -y --no-install-recommends nginx \\$/m);
  });

  it('renders the dnf side of the macros for an rpm distro', async () => {
    const dir = projectWith({
      'profiles/rocky.yaml': 'distro: rocky\ndistro_tag: "9"\ninstall_type: binary\n',
    });
    const out = await render(dir, '-p', 'rocky', 'base', 'memcached');
    expect(out).toMatch(/dnf -y install|dnf install -y/);
    expect(out).toMatch(/dnf clean all/);
    expect(out).not.toContain('apt-get');
    // The root upgrades what it inherits in the RUN that installs its packages; no other does.
    expect(out).toMatch(/^RUN dnf -y upgrade [^\n]*\\\n {4}&& dnf -y install [^\n]* tini jq /m);
    expect(out.match(/dnf -y upgrade/g)).toHaveLength(1);
  });

  it("upgrades what the base image came with in the base's install step (apt), and only there", async () => {
    const out = await render(root, '-p', 'debian-binary', 'base', 'memcached');
    expect(out).toMatch(
      /^RUN apt-get update \\\n {4}&& DEBIAN_FRONTEND=noninteractive apt-get upgrade -y \\\n {4}&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini jq \\$/m,
    );
    expect(out.match(/apt-get upgrade/g)).toHaveLength(1);
  });

  it('debian-source builds memcached, redis and haproxy from the pinned archives it fetches', async () => {
    const out = await render(root, '-p', 'debian-source', 'memcached', 'redis', 'haproxy');
    for (const [name, suffix] of [
      ['memcached', '.tar.xz'],
      ['redis', '.tar.gz'],
      ['haproxy', '.tar.gz'],
    ]) {
      expect(out).toMatch(new RegExp(`^FROM kbuild/builder:debian-source AS ${name}-build$`, 'm'));
      expect(out).toContain(
        `COPY kbuild-sources/${name}${suffix} /src/archives/${name}${suffix}\nRUN kbuild_fetch_source ${name} /src/${name}`,
      );
    }
    const binary = await render(root, '-p', 'debian-binary', 'memcached');
    expect(binary).not.toContain('kbuild-sources');
  });

  it('groups select what their names say', async () => {
    const r = await runCli(['list', '-p', 'debian-binary', '--skip-parents', 'monitoring'], root);
    expect(r.code).toBe(0);
    const listed = r.stdout;
    for (const n of ['prometheus-server', 'prometheus-node-exporter', 'prometheus-base'])
      expect(listed).toContain(n);
    expect(listed).not.toContain('memcached ');
  });
});
