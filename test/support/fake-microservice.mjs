// A small HTTP service that stands in for a microservice image in the tests (the fake node and the
// stand-in container engine run it for an image name): it listens on PORT and serves
//   GET  /entities   the JSON array in ENTITIES (JSON pull), or two entities
//   POST /transform  the posted entities, each with a greeting from GREETING and the HOSTNAME serving it
//   GET  /env        its environment
// Requests need the basic login in MS_USER/MS_PASSWORD when those are set. Each request is logged.
import http from 'node:http';

const port = Number(process.env.PORT ?? 5000);

const server = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const url = new URL(req.url ?? '/', 'http://x');
  process.stdout.write(`${new Date().toISOString()} ${req.method} ${url.pathname}\n`);
  const send = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (process.env.MS_USER) {
    const expected = `Basic ${Buffer.from(`${process.env.MS_USER}:${process.env.MS_PASSWORD ?? ''}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return send(401, { error: 'login required' });
  }
  if (url.pathname === '/entities' && req.method === 'GET') return send(200, JSON.parse(process.env.ENTITIES ?? '[{"_id": "1", "name": "one"}, {"_id": "2", "name": "two"}]'));
  if (url.pathname === '/transform' && req.method === 'POST') {
    const entities = JSON.parse(body || '[]');
    return send(200, entities.map((e) => ({ ...e, greeting: `${process.env.GREETING ?? 'hello'} ${e.name ?? e._id}`, served_by: process.env.HOSTNAME ?? '' })));
  }
  if (url.pathname === '/env') return send(200, process.env);
  if (url.pathname === '/') return send(200, { service: 'fake-microservice' });
  send(404, { error: `no route ${req.method} ${url.pathname}` });
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`fake microservice listening on ${port}\n`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
