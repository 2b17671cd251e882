#!/usr/bin/env python3
"""An independent Azure Relay Hybrid Connections client, written from Microsoft's public
protocol documentation ("Azure Relay Hybrid Connections protocol") and nothing of this
project's code, to check mock-relay against the documented wire rather than against itself.

It implements, with the standard library and the `websockets` package only:
  - the connection string (split on ';', then on the first '=', keys case-insensitive);
  - SAS tokens: sr = URL-encoded resource URI, se = expiry, sig = base64(HMAC-SHA256(key as
    UTF-8 text, sr + "\\n" + se)), "SharedAccessSignature sr=..&sig=..&se=..&skn=..";
  - listen, connect, accept and reject URLs, the ServiceBusAuthorization header and the
    sb-hc-token query parameter, the {"accept":{...}} and {"renewToken":{...}} messages.

Usage: hc_client.py --connection-string CS --ca CA_PEM --entity ENTITY --other-entity ENTITY2
                    --unknown-entity NAME [--quota-entity ENTITY3]

Runs every scenario and prints one line each, "ok NAME" or "FAIL NAME: why"; exits 1 if any
failed. Every network step has a deadline.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
import time
import urllib.parse

import websockets

STEP = 10  # seconds: bound on every network step


# --- the wire, from the documentation ----------------------------------------------------------


def parse_connection_string(text):
    fields = {}
    for segment in text.split(";"):
        segment = segment.strip()
        if not segment:
            continue
        key, _, value = segment.partition("=")
        fields[key.strip().lower()] = value.strip()
    endpoint = urllib.parse.urlsplit(fields["endpoint"])
    assert endpoint.scheme == "sb", "Endpoint must be sb://"
    return {
        "host": endpoint.hostname,
        "authority": endpoint.netloc,
        "key_name": fields["sharedaccesskeyname"],
        "key": fields["sharedaccesskey"],
    }


def encode(text):
    return urllib.parse.quote(text, safe="")


def sas_token(key_name, key, resource, lifetime=3600):
    sr = encode(resource)
    se = str(int(time.time()) + lifetime)
    digest = hmac.new(key.encode("utf-8"), f"{sr}\n{se}".encode("utf-8"), hashlib.sha256).digest()
    sig = base64.b64encode(digest).decode("ascii")
    return f"SharedAccessSignature sr={sr}&sig={encode(sig)}&se={se}&skn={encode(key_name)}"


def resource_uri(ns, entity):
    return f"http://{ns['host']}/{entity}/"


def hc_path(entity, action, conn_id):
    return f"/$hc/{entity}?sb-hc-action={action}&sb-hc-id={encode(conn_id)}"


# --- transports --------------------------------------------------------------------------------


class Client:
    def __init__(self, ns, ca):
        self.ns = ns
        self.ssl = ssl.create_default_context(cafile=ca)

    def token(self, entity, key=None, key_name=None):
        return sas_token(key_name or self.ns["key_name"], key or self.ns["key"], resource_uri(self.ns, entity))

    async def websocket(self, path, token=None, headers=None):
        """Opens a WebSocket at path (no ping of its own: an idle channel stays idle)."""
        extra = dict(headers or {})
        if token is not None:
            extra["ServiceBusAuthorization"] = token
        uri = f"wss://{self.ns['authority']}{path}"
        return await asyncio.wait_for(
            websockets.connect(uri, ssl=self.ssl, extra_headers=extra, ping_interval=None, open_timeout=STEP),
            STEP * 2,
        )

    async def websocket_at(self, address):
        """Connects to an accept address exactly as given (no token)."""
        return await asyncio.wait_for(
            websockets.connect(address, ssl=self.ssl, ping_interval=None, open_timeout=STEP), STEP * 2
        )

    def handshake(self, path, token=None, headers=None, host=None, port=None):
        """A WebSocket handshake with http.client, to see a refusal's status, reason phrase and
        body. Returns (status, reason, body)."""
        host = host or self.ns["host"]
        port = port or urllib.parse.urlsplit(f"//{self.ns['authority']}").port or 443
        conn = http.client.HTTPSConnection(host, port, context=self.ssl, timeout=STEP * 4)
        sent = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        }
        if token is not None:
            sent["ServiceBusAuthorization"] = token
        sent.update(headers or {})
        try:
            conn.request("GET", path, headers=sent)
            resp = conn.getresponse()
            body = b"" if resp.status == 101 else resp.read()
            return resp.status, resp.reason, body.decode("utf-8", "replace")
        finally:
            conn.close()

    def handshake_at(self, address):
        parts = urllib.parse.urlsplit(address)
        assert parts.scheme == "wss", f"accept address is not wss://: {address}"
        return self.handshake(f"{parts.path}?{parts.query}", host=parts.hostname, port=parts.port or 443)


async def next_accept(listener):
    """The next accept message on a control channel (other messages are skipped)."""
    while True:
        text = await asyncio.wait_for(listener.recv(), STEP)
        message = json.loads(text)
        if "accept" in message:
            return message["accept"]


def expect(condition, why):
    if not condition:
        raise AssertionError(why)


# --- scenarios ---------------------------------------------------------------------------------


async def accept_and_exchange(c, entity):
    listener = await c.websocket(hc_path(entity, "listen", "py-listener-1"), c.token(entity))
    sender_id = "py-sender-1"
    sending = asyncio.ensure_future(
        c.websocket(hc_path(entity, "connect", sender_id), c.token(entity), {"X-Probe-Test": "42"})
    )
    accept = await next_accept(listener)
    expect(accept["id"].startswith(sender_id), f"accept id {accept['id']!r} does not start with {sender_id}")
    expect(
        accept["address"].startswith(f"wss://{c.ns['authority']}/$hc/{entity}?sb-hc-action=accept"),
        f"unexpected address {accept['address']!r}",
    )
    headers = {k.lower(): v for k, v in accept.get("connectHeaders", {}).items()}
    expect(headers.get("x-probe-test") == "42", f"connectHeaders lack the sender's header: {headers}")
    expect("servicebusauthorization" not in headers, "connectHeaders carry the sender's token")
    rendezvous = await c.websocket_at(accept["address"])
    sender = await asyncio.wait_for(sending, STEP)
    await sender.send("hello from the sender")
    got = await asyncio.wait_for(rendezvous.recv(), STEP)
    expect(got == "hello from the sender", f"listener got {got!r}")
    await rendezvous.send(b"\x00\x01 bytes from the listener")
    got = await asyncio.wait_for(sender.recv(), STEP)
    expect(got == b"\x00\x01 bytes from the listener", f"sender got {got!r}")
    await asyncio.wait_for(sender.close(code=1000, reason="bye"), STEP)
    try:
        await asyncio.wait_for(rendezvous.recv(), STEP)
        raise AssertionError("the rendezvous stayed open after the sender closed")
    except websockets.exceptions.ConnectionClosed as closed:
        expect(closed.rcvd is not None and closed.rcvd.code == 1000, f"listener saw close {closed.rcvd}")
    await listener.close()
    return accept["address"]


async def reject(c, entity):
    listener = await c.websocket(hc_path(entity, "listen", "py-listener-2"), c.token(entity))
    sending = asyncio.ensure_future(asyncio.to_thread(c.handshake, hc_path(entity, "connect", "py-sender-2"), c.token(entity)))
    accept = await next_accept(listener)
    description = "Not today: busy/100% (try later)"
    url = f"{accept['address']}&sb-hc-statusCode=418&sb-hc-statusDescription={encode(description)}"
    status, _, _ = await asyncio.to_thread(c.handshake_at, url)
    expect(status == 410, f"the reject handshake was answered {status}, not 410")
    status, reason, body = await asyncio.wait_for(sending, STEP * 2)
    expect(status == 418, f"the sender got {status}, not the listener's 418")
    expect(reason == description, f"the sender's reason phrase is {reason!r}")
    expect(body.splitlines()[0] == description, f"the sender's body is {body!r}")
    await listener.close()


async def reused_address(c, address):
    status, _, _ = await asyncio.to_thread(c.handshake_at, address)
    expect(status == 403, f"a used accept address was answered {status}, not 403")
    parts = urllib.parse.urlsplit(address)
    unknown = address.replace(parts.query, "sb-hc-action=accept&sb-hc-id=never-issued_G9")
    status, _, _ = await asyncio.to_thread(c.handshake_at, unknown)
    expect(status == 403, f"an unknown accept address was answered {status}, not 403")


async def refusals(c, entity, other, unknown):
    path = hc_path(entity, "listen", "py-refused")
    status, reason, _ = await asyncio.to_thread(c.handshake, path, c.token(entity, key="d3JvbmcgIGtleQ=="))
    expect(status == 401, f"a token signed with the wrong key got {status} ({reason})")
    status, _, _ = await asyncio.to_thread(c.handshake, path, c.token(entity, key_name="NoSuchRule"))
    expect(status == 401, f"a token for an unknown key name got {status}")
    status, _, _ = await asyncio.to_thread(c.handshake, path)
    expect(status == 401, f"no token got {status}")
    status, _, _ = await asyncio.to_thread(c.handshake, path, c.token(other))
    expect(status == 403, f"a token for another entity got {status}")
    status, _, _ = await asyncio.to_thread(c.handshake, hc_path(entity, "connect", "py-s"), c.token(other))
    expect(status == 403, f"a sender with a token for another entity got {status}")
    status, _, _ = await asyncio.to_thread(c.handshake, hc_path(unknown, "listen", "py-u"), c.token(unknown))
    expect(status == 404, f"an unknown entity got {status}")
    status, reason, body = await asyncio.to_thread(c.handshake, hc_path(other, "connect", "py-lonely"), c.token(other))
    expect(status == 404, f"a sender with no listener got {status}")
    expect(reason == body.splitlines()[0] and reason, f"no description: {reason!r} / {body!r}")


async def token_in_query_and_quota(c, entity):
    listeners = []
    try:
        for n in range(25):
            path = f"{hc_path(entity, 'listen', f'py-q{n}')}&sb-hc-token={encode(c.token(entity))}"
            listeners.append(await c.websocket(path))
        status, reason, _ = await asyncio.to_thread(c.handshake, hc_path(entity, "listen", "py-q25"), c.token(entity))
        expect(status == 403, f"the 26th listener got {status} ({reason})")
        expect("25" in reason, f"the refusal does not say the limit: {reason!r}")
    finally:
        for listener in listeners:
            await listener.close()
    listener = await c.websocket(hc_path(entity, "listen", "py-q-after"), c.token(entity))
    await listener.close()


async def control_messages(c, entity):
    listener = await c.websocket(hc_path(entity, "listen", "py-renew"), c.token(entity))
    await listener.send(json.dumps({"somethingNew": {"x": 1}}))
    await listener.send(json.dumps({"renewToken": {"token": c.token(entity)}}))
    pong = await listener.ping()
    await asyncio.wait_for(pong, STEP)
    sending = asyncio.ensure_future(asyncio.to_thread(c.handshake, hc_path(entity, "connect", "py-after-renew"), c.token(entity)))
    accept = await next_accept(listener)
    url = f"{accept['address']}&sb-hc-statusCode=503&sb-hc-statusDescription=later"
    status, _, _ = await asyncio.to_thread(c.handshake_at, url)
    expect(status == 410, f"reject after renewal answered {status}")
    await asyncio.wait_for(sending, STEP * 2)
    bad = "SharedAccessSignature sr=x&sig=AAAA&se=1&skn=" + c.ns["key_name"]
    await listener.send(json.dumps({"renewToken": {"token": bad}}))
    try:
        await asyncio.wait_for(listener.recv(), STEP)
        raise AssertionError("a bad renewToken did not close the channel")
    except websockets.exceptions.ConnectionClosed as closed:
        expect(closed.rcvd is not None and closed.rcvd.code == 1008, f"closed with {closed.rcvd}, not 1008")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connection-string", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--entity", required=True)
    parser.add_argument("--other-entity", required=True)
    parser.add_argument("--unknown-entity", required=True)
    parser.add_argument("--quota-entity", required=True)
    args = parser.parse_args()
    c = Client(parse_connection_string(args.connection_string), args.ca)
    failed = 0

    async def run(name, scenario):
        nonlocal failed
        try:
            result = await asyncio.wait_for(scenario, 120)
            print(f"ok {name}", flush=True)
            return result
        except Exception as e:  # every failure is reported, none is fatal to the others
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            return None

    address = await run("accept_and_exchange", accept_and_exchange(c, args.entity))
    if address:
        await run("reused_address", reused_address(c, address))
    await run("reject", reject(c, args.entity))
    await run("refusals", refusals(c, args.entity, args.other_entity, args.unknown_entity))
    await run("token_in_query_and_quota", token_in_query_and_quota(c, args.quota_entity))
    await run("control_messages", control_messages(c, args.entity))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
