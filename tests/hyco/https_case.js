// hyco-https 1.4.5, unchanged: a relayed HTTP listener, and senders using Node's own https
// client against https://NAMESPACE/ENTITY/... with a ServiceBusAuthorization header, one case
// per run:   node https_case.js CASE
// Prints one JSON object (the case's result) as its last line. See tests/tests/hyco_https.rs.
'use strict';

const https = require('hyco-https');
const { env, done, bounded, sha, bytes } = require('./common');

const listenUri = () => https.createRelayListenUri(env.ns, env.entity);
const token = (uri) => https.createRelayToken(uri, env.keyName, env.key, 3600);

// Node's https client (hyco-https re-exports Node's https module as it is).
function send(method, path, headers, body, tokenIn) {
  return new Promise((resolve) => {
    const sas = token('http://' + env.ns + '/' + env.entity);
    let url = 'https://' + env.ns + '/' + env.entity + path;
    const auth = {};
    if (tokenIn === 'query') {
      url += (url.indexOf('?') === -1 ? '?' : '&') + 'sb-hc-token=' + encodeURIComponent(sas);
    } else if (tokenIn === 'none') {
      // no token at all
    } else {
      auth.ServiceBusAuthorization = sas;
    }
    const req = https.request(url, {
      method,
      headers: Object.assign(auth, headers || {}),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({
          status: res.statusCode,
          reason: res.statusMessage,
          headers: res.headers,
          length: data.length,
          sha: sha(data),
          text: data.length <= 4096 ? data.toString('utf8') : null,
        });
      });
    });
    req.on('error', (e) => resolve({ error: String(e.message) }));
    if (body !== undefined) req.end(body); else req.end();
  });
}

// The listener: reports what it received in the response's headers and body.
//   /echo            200, the request as JSON (method, url, headers, body length and sha)
//   /status          418 with its own reason phrase and headers
//   /big?n=N         N bytes of pattern
//   /chunked         three writes, then end
//   /silent          never answers
function listener(onListening) {
  const server = https.createRelayedServer({ server: listenUri(), token: () => token(listenUri()) }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url, 'https://listener.invalid');
      const route = url.pathname.replace('/' + env.entity, '');
      if (route === '/status') {
        res.setHeader('X-From-Listener', 'yes');
        res.writeHead(418, 'Short and stout', { 'Content-Type': 'text/plain' });
        res.end('teapot');
      } else if (route === '/big') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.end(bytes(Number(url.searchParams.get('n')), 3));
      } else if (route === '/chunked') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('one,');
        setTimeout(() => { res.write('two,'); setTimeout(() => res.end('three'), 20); }, 20);
      } else if (route === '/silent') {
        // no answer
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          bodyLength: body.length,
          bodySha: sha(body),
        }));
      }
    });
  });
  server.on('error', () => {});
  server.on('listening', onListening);
  server.listen();
  return server;
}

function withListener(name, run) {
  bounded(name, {});
  let started = false;
  const server = listener(async () => {
    if (started) return;
    started = true;
    const result = await run();
    server.close();
    done(Object.assign({ case: name }, result));
  });
}

const cases = {
  get: () => withListener('get', async () => ({
    response: await send('GET', '/echo/a%20b?x=1&y=two', { 'X-Custom': 'from-sender' }),
  })),

  post_small: () => withListener('post_small', async () => {
    const body = bytes(10 * 1024, 1);
    return { sentSha: sha(body), sentLength: body.length, response: await send('POST', '/echo', { 'Content-Type': 'application/octet-stream' }, body) };
  }),

  post_large: () => withListener('post_large', async () => {
    const body = bytes(300 * 1024, 2);
    return { sentSha: sha(body), sentLength: body.length, response: await send('POST', '/echo', { 'Content-Type': 'application/octet-stream' }, body) };
  }),

  response_large: () => withListener('response_large', async () => ({
    wantSha: sha(bytes(500 * 1024, 3)),
    response: await send('GET', '/big?n=' + 500 * 1024),
  })),

  token_in_query: () => withListener('token_in_query', async () => ({
    response: await send('GET', '/echo?x=1', {}, undefined, 'query'),
  })),

  no_token: () => withListener('no_token', async () => ({
    response: await send('GET', '/echo', {}, undefined, 'none'),
  })),

  status: () => withListener('status', async () => ({ response: await send('GET', '/status') })),

  chunked: () => withListener('chunked', async () => ({ response: await send('GET', '/chunked') })),

  concurrent: () => withListener('concurrent', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => send('GET', '/echo?i=' + i)));
    return {
      statuses: responses.map((r) => r.status),
      urls: responses.map((r) => (r.text ? JSON.parse(r.text).url : null)),
    };
  }),

  silent: () => withListener('silent', async () => ({ response: await send('GET', '/silent') })),

  // Not a hyco-https listener: the ws client hyco-https itself uses, on the control channel,
  // answering every request with a response whose statusCode is not a status.
  malformed: () => {
    bounded('malformed', {});
    const WebSocket = require(require.resolve('ws', { paths: [require('path').dirname(require.resolve('hyco-https'))] }));
    const uri = listenUri();
    const control = new WebSocket(uri, { headers: { ServiceBusAuthorization: token(uri) } });
    control.on('message', (data) => {
      const message = JSON.parse(data);
      if (message.request) {
        control.send(JSON.stringify({ response: { requestId: message.request.id, statusCode: 'soon' } }));
      }
    });
    control.on('open', async () => {
      const response = await send('GET', '/echo');
      control.close();
      done({ case: 'malformed', response });
    });
    control.on('error', (e) => done({ case: 'malformed', error: String(e.message) }));
  },

  no_listener: async () => {
    bounded('no_listener', {});
    done({ case: 'no_listener', response: await send('GET', '/echo') });
  },
};

const name = process.argv[2];
if (!cases[name]) {
  process.stderr.write('unknown case ' + name + '; known: ' + Object.keys(cases).join(' ') + '\n');
  process.exit(2);
}
cases[name]();
