#!/usr/bin/env node
// A stand-in for the docker command line, for the tests of `sluice run`'s microservice containers
// (no container engine works on the test machines). It knows the commands Sluice uses — info, login,
// pull, image inspect, run, port, inspect, logs, rm — and "runs" an image as a local Node process:
// FAKE_ENGINE_IMAGES maps image names to scripts (e.g. fake-microservice.mjs), which get PORT, the
// container's environment (-e NAME takes the value from this command's environment) and HOSTNAME.
// State lives in FAKE_ENGINE_DIR; every call is appended to calls.log there (stdin too, for login).
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

const dir = process.env.FAKE_ENGINE_DIR;
if (!dir) {
  process.stderr.write('FAKE_ENGINE_DIR is not set\n');
  process.exit(2);
}
mkdirSync(join(dir, 'containers'), { recursive: true });
const images = JSON.parse(process.env.FAKE_ENGINE_IMAGES ?? '{}');
const args = process.argv.slice(2);
const stdin = args[0] === 'login' ? readFileSync(0, 'utf8') : '';
appendFileSync(join(dir, 'calls.log'), `${JSON.stringify({ args, ...(stdin ? { stdin } : {}) })}\n`);

const fail = (message, code = 1) => {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(code);
};
const statePath = (name) => join(dir, 'containers', `${name}.json`);
const load = (name) => (existsSync(statePath(name)) ? JSON.parse(readFileSync(statePath(name), 'utf8')) : null);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const imageIdPath = (image) => join(dir, `image-${image.replace(/[^a-zA-Z0-9]/g, '_')}`);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

switch (args[0]) {
  case 'info':
    process.stdout.write('"fake-engine"\n');
    break;
  case 'login':
    if (process.env.FAKE_ENGINE_PASSWORD && stdin !== process.env.FAKE_ENGINE_PASSWORD) fail(`login to ${args[1]} refused: unauthorized`);
    process.stdout.write('Login Succeeded\n');
    break;
  case 'pull': {
    const image = args[1];
    if (!images[image]) fail(`pull access denied for ${image}, repository does not exist`);
    // Each pull may bring a newer image: its id comes from FAKE_ENGINE_IMAGE_VERSION.
    writeFileSync(imageIdPath(image), `sha256:${process.env.FAKE_ENGINE_IMAGE_VERSION ?? '1'}`);
    break;
  }
  case 'image': {
    const image = args[args.length - 1];
    if (!existsSync(imageIdPath(image))) fail(`No such image: ${image}`);
    process.stdout.write(`${readFileSync(imageIdPath(image), 'utf8')}\n`);
    break;
  }
  case 'rm': {
    const name = args[args.length - 1];
    const st = load(name);
    if (st) {
      if (alive(st.pid)) process.kill(st.pid, 'SIGKILL');
      rmSync(statePath(name));
    }
    break;
  }
  case 'run': {
    const name = option('--name');
    const image = args[args.length - 1];
    if (load(name)) fail(`Conflict. The container name "/${name}" is already in use`);
    const script = images[image];
    if (!script) fail(`Unable to find image '${image}' locally`, 125);
    const [, containerPort] = /::(\d+)$/.exec(option('-p') ?? '') ?? [];
    const env = { PATH: process.env.PATH, HOSTNAME: name };
    const labels = {};
    for (let i = 1; i < args.length - 1; i++) {
      if (args[i] === '-e') env[args[i + 1]] = process.env[args[i + 1]] ?? '';
      if (args[i] === '--label') {
        const [k, ...v] = args[i + 1].split('=');
        labels[k] = v.join('=');
      }
    }
    const hostPort = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    const log = openSync(join(dir, 'containers', `${name}.log`), 'a');
    const child = spawn(process.execPath, [script], { env: { ...env, PORT: String(hostPort) }, stdio: ['ignore', log, log], detached: true });
    child.unref();
    // Wait until it listens, as `docker run -d` returns once the container started.
    for (let i = 0; i < 100; i++) {
      const up = await new Promise((resolve) => net.connect(hostPort, '127.0.0.1').once('connect', function () { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const id = `${Date.now().toString(16)}${Math.random().toString(16).slice(2, 10)}`.padEnd(64, '0');
    writeFileSync(statePath(name), JSON.stringify({ id, name, image, labels, args, env, pid: child.pid, hostPort, containerPort: Number(containerPort), startedAt: new Date().toISOString() }));
    process.stdout.write(`${id}\n`);
    break;
  }
  case 'port': {
    const st = load(args[1]);
    if (!st) fail(`No such container: ${args[1]}`);
    process.stdout.write(`127.0.0.1:${st.hostPort}\n`);
    break;
  }
  case 'inspect': {
    const name = args[args.length - 1];
    const st = load(name);
    if (!st) fail(`No such object: ${name}`);
    const running = alive(st.pid);
    const info = { Id: st.id, Name: `/${name}`, Created: st.startedAt, RestartCount: 0, Config: { Image: st.image, Labels: st.labels }, State: { Status: running ? 'running' : 'exited', Running: running, StartedAt: st.startedAt, FinishedAt: '0001-01-01T00:00:00Z', ExitCode: running ? 0 : 137, Error: '', OOMKilled: false } };
    const format = option('--format');
    if (format) process.stdout.write(`${st.labels['sluice.io/settings'] ?? ''} ${running}\n`);
    else process.stdout.write(`${JSON.stringify([info])}\n`);
    break;
  }
  case 'logs': {
    const name = args[args.length - 1];
    if (!load(name)) fail(`No such container: ${name}`);
    const since = option('--since');
    const lines = readFileSync(join(dir, 'containers', `${name}.log`), 'utf8').split('\n').filter((l) => l !== '');
    const stamped = lines.map((l) => (/^\d{4}-\d\d-\d\dT/.test(l) ? l : `${new Date(0).toISOString()} ${l}`)).filter((l) => !since || l.slice(0, 24) >= since);
    process.stdout.write(stamped.map((l) => `${l}\n`).join(''));
    break;
  }
  default:
    fail(`unknown command "${args[0]}"`);
}
