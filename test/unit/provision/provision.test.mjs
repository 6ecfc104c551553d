// The provisioning of `npm test`: which system packages it asks for, the cause it names for a
// failed native build, and that a missing package is reported in seconds with its command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BUILD_PACKAGES, aptCommand, diagnoseBuildLog, missingPackages } from '../../../scripts/lib/provision.mjs';
import { root } from '../../../scripts/lib/codeServer.mjs';

describe('provisioning', () => {
  test('asks for the packages that code-server\'s native build needs', () => {
    assert.deepEqual(BUILD_PACKAGES.map((n) => n.pkg), ['g++', 'make', 'python3', 'pkg-config', 'libkrb5-dev']);
    for (const n of BUILD_PACKAGES) assert.ok(n.why.length > 10, `says why ${n.pkg} is needed`);
  });

  test('a package can be treated as missing, and present ones are not reported', () => {
    const needs = [{ pkg: 'a', why: 'x', present: () => true }, { pkg: 'b', why: 'y', present: () => false }];
    assert.deepEqual(missingPackages(needs, '').map((n) => n.pkg), ['b']);
    assert.deepEqual(missingPackages(needs, 'a').map((n) => n.pkg), ['a', 'b']);
  });

  test('names libkrb5-dev for the compiler\'s real message about a missing GSSAPI header', (t) => {
    const gxx = spawnSync('sh', ['-c', 'command -v g++'], { encoding: 'utf8' });
    if (gxx.status !== 0) return t.skip('no g++ here');
    const dir = mkdtempSync(join(tmpdir(), 'quantscope-gyp-'));
    try {
      writeFileSync(join(dir, 'kerberos.cc'), '#include <gssapi/gssapi.h>\nint main() { return 0; }\n');
      // Without the system include folders, the header is missing as on a machine without libkrb5-dev.
      const r = spawnSync('g++', ['-nostdinc', '-c', join(dir, 'kerberos.cc'), '-o', join(dir, 'kerberos.o')], { encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      const log = `gyp info spawn make\nmake: Entering directory 'build'\n  CXX(target) Release/obj.target/kerberos/src/kerberos.o\n${r.stderr}\ngyp ERR! build error\ngyp ERR! stack Error: \`make\` failed with exit code: 2\n`;
      const cause = diagnoseBuildLog(log);
      assert.equal(cause?.pkg, 'libkrb5-dev');
      assert.equal(cause?.command, 'sudo apt-get install -y --no-install-recommends libkrb5-dev');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('names the other missing build tools, and nothing for an unknown failure', () => {
    assert.equal(diagnoseBuildLog('/bin/sh: 1: pkg-config: not found')?.pkg, 'pkg-config');
    assert.equal(diagnoseBuildLog('gyp ERR! find Python Python is not set from command line or npm configuration')?.pkg, 'python3');
    assert.equal(diagnoseBuildLog('gyp ERR! stack Error: not found: make')?.pkg, 'make');
    assert.equal(diagnoseBuildLog('make: g++: No such file or directory\n/bin/sh: 1: g++: not found')?.pkg, 'g++');
    assert.equal(diagnoseBuildLog('npm error network ETIMEDOUT'), undefined);
    assert.equal(aptCommand(['a', 'b']), 'sudo apt-get install -y --no-install-recommends a b');
  });

  test('without root or sudo, a missing package is reported in seconds with the command that installs it', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const p = await import(${JSON.stringify(join(root, 'scripts', 'lib', 'provision.mjs'))});
      const r = await p.ensureSystemPackages({ always: true });
      console.log(JSON.stringify(r));
    `], { encoding: 'utf8', env: { ...process.env, QUANTSCOPE_NO_APT: '1', QUANTSCOPE_ASSUME_MISSING: 'libkrb5-dev' } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Date.now() - t0 < 10_000, 'the check takes seconds');
    assert.match(r.stdout, /missing system package libkrb5-dev: the Kerberos \(GSSAPI\) headers/);
    assert.match(r.stdout, /sudo apt-get install -y --no-install-recommends libkrb5-dev/);
    const result = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(result.ok, false);
  });
});
