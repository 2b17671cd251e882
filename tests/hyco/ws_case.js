// hyco-ws 1.0.5, unchanged: a relayed WebSocket listener and sender, one case per run:
//   node ws_case.js CASE
// Prints one JSON object (the case's result) as its last line. See tests/tests/hyco_ws.rs.
'use strict';

const WebSocket = require('hyco-ws');
// The moment instance hyco-ws itself uses (installed beside it).
const moment = require(require.resolve('moment', { paths: [require('path').dirname(require.resolve('hyco-ws'))] }));
const { env, done, bounded, sha, bytes, text, event } = require('./common');

const listenUri = () => WebSocket.createRelayListenUri(env.ns, env.entity);
const sendUri = (entity) => WebSocket.createRelaySendUri(env.ns, entity || env.entity);
const token = (uri, seconds, key) =>
  WebSocket.createRelayToken(uri, env.keyName, key || env.key, seconds);

// A listener echoing every message back as it came (text as text, binary as binary).
function echoListener(options) {
  const server = WebSocket.createRelayedServer(
    Object.assign({ server: listenUri(), token: () => token(listenUri(), 3600) }, options || {}),
    (ws) => {
      ws.on('message', (data, flags) => ws.send(data, { binary: !!(flags && flags.binary) }));
    }
  );
  server.on('error', () => {});
  return server;
}

// The sender's handshake status when the relay refuses it (ws 1.x: "unexpected server response (N)").
function refusal(uri, tokenText, name) {
  bounded(name, {});
  const ws = WebSocket.relayedConnect(uri, tokenText);
  ws.on('open', () => done({ case: name, opened: true }));
  ws.on('error', (e) => {
    const m = /\((\d{3})\)/.exec(String(e && e.message));
    done({ case: name, opened: false, status: m ? Number(m[1]) : null, error: String(e && e.message) });
  });
}

const cases = {
  // Text and binary from 1 byte to 1 MiB, all in flight at once, each echoed back.
  messages() {
    const sizes = [1, 1024, 64 * 1024, 200 * 1024, 1024 * 1024];
    const state = { sent: 0, echoed: 0, mismatches: [] };
    bounded('messages', state);
    const server = echoListener();
    server.on('listening', () => {
      const ws = WebSocket.relayedConnect(sendUri(), token(sendUri(), 3600));
      const expected = [];
      ws.on('open', () => {
        sizes.forEach((size, i) => {
          const t = text(size, i);
          const b = bytes(size, i);
          expected.push({ binary: false, size, sha: sha(t) }, { binary: true, size, sha: sha(b) });
          ws.send(t);
          ws.send(b, { binary: true });
          state.sent += 2;
        });
      });
      ws.on('message', (data, flags) => {
        const want = expected[state.echoed++];
        const binary = !!(flags && flags.binary);
        const got = { binary, sha: sha(data) };
        if (got.binary !== want.binary || got.sha !== want.sha) {
          state.mismatches.push({ want, got: { binary, length: data.length } });
        }
        if (state.echoed === expected.length) {
          ws.close();
          server.close();
          done(Object.assign({ case: 'messages', sizes }, state));
        }
      });
      ws.on('close', (code) => {
        if (state.echoed < expected.length) done(Object.assign({ case: 'messages', closed: code }, state));
      });
    });
  },

  // A sender asking for subprotocols: the listener (hyco-ws takes the first) and the sender
  // both end up on the first one.
  subprotocol() {
    const state = {};
    bounded('subprotocol', state);
    const server = WebSocket.createRelayedServer(
      { server: listenUri(), token: () => token(listenUri(), 3600) },
      (ws) => {
        ws.on('open', () => { state.listenerProtocol = ws.protocol; });
        ws.on('message', (data) => ws.send('listener got ' + data + ' on ' + ws.protocol));
      }
    );
    server.on('error', () => {});
    server.on('listening', () => {
      const ws = new WebSocket(sendUri(), ['chat.v2', 'chat.v1'], {
        headers: { ServiceBusAuthorization: token(sendUri(), 3600) },
      });
      ws.on('open', () => {
        state.senderProtocol = ws.protocol;
        ws.send('hello');
      });
      ws.on('message', (data) => {
        state.reply = String(data);
        ws.close();
        server.close();
        done(Object.assign({ case: 'subprotocol' }, state));
      });
      ws.on('error', (e) => done(Object.assign({ case: 'subprotocol', error: String(e.message) }, state)));
    });
  },

  // A sender's path below the entity and its query reach the listener in the accept address
  // (hyco-ws connects to the address as given: the accepted socket's url).
  suffix_query() {
    const state = {};
    bounded('suffix_query', state);
    const server = WebSocket.createRelayedServer(
      { server: listenUri(), token: () => token(listenUri(), 3600) },
      (ws) => { state.address = ws.url; ws.on('message', (data) => ws.send('got ' + data)); }
    );
    server.on('error', () => {});
    server.on('listening', () => {
      const uri = WebSocket.createRelayBaseUri(env.ns, env.entity + '/orders/42') + '?tenant=a%20b&sb-hc-action=connect';
      // Signed for the entity, as a sender signs its connection string's entity.
      const ws = WebSocket.relayedConnect(uri, token(sendUri(), 3600));
      ws.on('open', () => ws.send('x'));
      ws.on('message', (data) => {
        state.reply = String(data);
        ws.close();
        server.close();
        done(Object.assign({ case: 'suffix_query' }, state));
      });
      ws.on('error', (e) => done(Object.assign({ case: 'suffix_query', error: String(e.message) }, state)));
    });
  },

  // An entity that lets senders in without a token (HYCO_ENTITY is anonymous on the relay).
  anonymous() {
    const state = {};
    bounded('anonymous', state);
    const server = echoListener();
    server.on('listening', () => {
      const ws = WebSocket.relayedConnect(sendUri(), null);
      ws.on('open', () => ws.send('no token'));
      ws.on('message', (data) => {
        state.reply = String(data);
        ws.close();
        server.close();
        done(Object.assign({ case: 'anonymous' }, state));
      });
      ws.on('error', (e) => done(Object.assign({ case: 'anonymous', error: String(e.message) }, state)));
    });
  },

  no_listener() {
    refusal(sendUri(), token(sendUri(), 3600), 'no_listener');
  },

  unknown_entity() {
    const uri = sendUri('no-such-entity');
    refusal(uri, token(uri, 3600), 'unknown_entity');
  },

  wrong_key() {
    refusal(sendUri(), token(sendUri(), 3600, 'bm90IHRoZSBrZXk='), 'wrong_key');
  },

  expired_token() {
    // createRelayToken treats 0 as "the default hour": a negative lifetime gives a past expiry.
    refusal(sendUri(), token(sendUri(), -60), 'expired_token');
  },

  // The listener's token lives HYCO_TOKEN_S seconds; hyco-ws renews it every hour
  // (moment.duration(1, 'hours'), not configurable), so the test scales that hour down to
  // HYCO_RENEW_S seconds. A sender well past the first token's life still reaches it.
  renew() {
    const life = Number(process.env.HYCO_TOKEN_S || 3);
    const every = Number(process.env.HYCO_RENEW_S || 1);
    // When the sender comes: by default twice the token's life. Without renewal each listener's
    // token expires in turn, so a test of that sends between two expiries, not on one.
    const sendAt = Number(process.env.HYCO_SEND_AT_S || 2 * life);
    const original = moment.duration;
    moment.duration = function (n, unit) {
      return n === 1 && unit === 'hours' ? original(every, 'seconds') : original.apply(this, arguments);
    };
    const state = { listening: 0, tokens: 0 };
    bounded('renew', state);
    const server = WebSocket.createRelayedServer(
      {
        server: listenUri(),
        token: () => { state.tokens++; return token(listenUri(), life); },
      },
      (ws) => ws.on('message', (data) => ws.send('echo ' + data))
    );
    server.on('error', () => {});
    server.on('listening', () => {
      state.listening++;
      if (state.listening > 1) return;
      setTimeout(() => {
        const ws = WebSocket.relayedConnect(sendUri(), token(sendUri(), 3600));
        ws.on('open', () => ws.send('after ' + sendAt + ' s'));
        ws.on('message', (data) => {
          state.reply = String(data);
          ws.close();
          server.close();
          done(Object.assign({ case: 'renew', life }, state));
        });
        ws.on('error', (e) => done(Object.assign({ case: 'renew', error: String(e.message) }, state)));
      }, sendAt * 1000);
    });
  },

  // The listener prints each time it is listening; the test restarts mock-relay after the
  // first. Once listening again, a sender's message must reach it.
  reconnect() {
    const state = { listening: 0, errors: 0 };
    bounded('reconnect', state);
    const server = echoListener();
    server.on('error', () => { state.errors++; });
    server.on('listening', () => {
      state.listening++;
      event('listening', { n: state.listening });
      if (state.listening < 2) return;
      const ws = WebSocket.relayedConnect(sendUri(), token(sendUri(), 3600));
      ws.on('open', () => ws.send('after the restart'));
      ws.on('message', (data) => {
        state.reply = String(data);
        ws.close();
        server.close();
        done(Object.assign({ case: 'reconnect' }, state));
      });
      ws.on('error', (e) => done(Object.assign({ case: 'reconnect', error: String(e.message) }, state)));
    });
  },
};

const name = process.argv[2];
if (!cases[name]) {
  process.stderr.write('unknown case ' + name + '; known: ' + Object.keys(cases).join(' ') + '\n');
  process.exit(2);
}
cases[name]();
