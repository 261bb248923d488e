// Licensed under the Apache License, Version 2.0 (see LICENSE).
//
// Drives mod_paa's MCP endpoint with the official MCP TypeScript SDK
// client (Client + StreamableHTTPClientTransport), as an MCP host such as
// an IDE would, and prints one JSON line per step for
// tests/integration/mcp_sdk.sh to check.
//
//   node client.mjs full  URL KEY AGENT QUESTION
//       connect (initialize), ping, list tools, call list_personas,
//       call ask_agent twice (the second in the first one's chat session),
//       ask an unknown agent, call an unknown tool, end the session.
//   node client.mjs nokey URL
//       connect without credentials; the connection must fail.
//   node client.mjs bearer URL TOKEN
//       connect with an OAuth access token (Authorization: Bearer, as an
//       MCP host that obtained it from the authorization server sends it),
//       list tools, end the session (tests/integration/oidc.sh).
//
// Exit status: 0 when every step ran (the test judges the lines), 1 when a
// step threw unexpectedly (its line says why), 2 on a usage error.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { readFileSync } from 'node:fs';

// The installed SDK's own version (its package.json is not exported).
function sdkVersion() {
    try {
        const p = new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url);
        return JSON.parse(readFileSync(p, 'utf8')).version;
    } catch {
        return null;
    }
}
const SDK_VERSION = sdkVersion();

function emit(step, fields) {
    process.stdout.write(JSON.stringify({ step, ...fields }) + '\n');
}

function describe(err) {
    return {
        class: err?.constructor?.name ?? typeof err,
        code: err?.code ?? null,
        message: String(err?.message ?? err)
    };
}

// run STEP FN: FN's result fields are emitted; an exception ends the run.
async function run(step, fn) {
    try {
        emit(step, { ok: true, ...(await fn()) });
    } catch (err) {
        emit(step, { ok: false, error: describe(err) });
        process.exit(1);
    }
}

function newClient(url, headers) {
    const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers }
    });
    const client = new Client({ name: 'paa-sdk-interop', version: '1.0.0' });
    // Transport errors are also thrown from the calls; keep them quiet here.
    client.onerror = () => {};
    return { client, transport };
}

function text(result) {
    return (result.content ?? []).filter(c => c.type === 'text').map(c => c.text).join('');
}

async function full(url, key, agent, question) {
    const { client, transport } = newClient(url, { 'X-API-Key': key });

    await run('connect', async () => {
        await client.connect(transport);
        return {
            sdkVersion: SDK_VERSION,
            sdkLatestProtocol: LATEST_PROTOCOL_VERSION,
            protocolVersion: transport.protocolVersion ?? null,
            sessionId: transport.sessionId ?? null,
            serverInfo: client.getServerVersion() ?? null,
            capabilities: client.getServerCapabilities() ?? null
        };
    });
    await run('ping', async () => ({ result: await client.ping() }));
    await run('tools', async () => {
        const { tools } = await client.listTools();
        return {
            names: tools.map(t => t.name).sort(),
            schemas: Object.fromEntries(tools.map(t => [t.name, t.inputSchema]))
        };
    });
    await run('list_personas', async () => {
        const r = await client.callTool({ name: 'list_personas', arguments: {} });
        return {
            isError: r.isError ?? false,
            ids: (r.structuredContent?.personas ?? []).map(p => p.id).sort(),
            text: text(r)
        };
    });
    let chatSession = null;
    await run('ask_agent', async () => {
        const r = await client.callTool({
            name: 'ask_agent',
            arguments: { agent_id: agent, question }
        });
        chatSession = r.structuredContent?.session_id ?? null;
        return { isError: r.isError ?? false, text: text(r), structuredContent: r.structuredContent ?? null };
    });
    await run('ask_agent_again', async () => {
        const r = await client.callTool({
            name: 'ask_agent',
            arguments: { agent_id: agent, question: `${question} (again)`, session_id: chatSession }
        });
        return { isError: r.isError ?? false, text: text(r), structuredContent: r.structuredContent ?? null };
    });
    await run('ask_unknown_agent', async () => {
        const r = await client.callTool({
            name: 'ask_agent',
            arguments: { agent_id: 'no-such-agent', question }
        });
        return { isError: r.isError ?? false, text: text(r) };
    });
    await run('unknown_tool', async () => {
        try {
            const r = await client.callTool({ name: 'no_such_tool', arguments: {} });
            return { threw: false, result: r };
        } catch (err) {
            return { threw: true, error: describe(err) };
        }
    });
    await run('terminate', async () => {
        const sid = transport.sessionId;
        await transport.terminateSession();
        return { endedSession: sid ?? null, sessionIdAfter: transport.sessionId ?? null };
    });
    await client.close();
}

async function nokey(url) {
    const { client, transport } = newClient(url, {});
    try {
        await client.connect(transport);
        emit('nokey', { ok: false, connected: true, sessionId: transport.sessionId ?? null });
        await client.close();
    } catch (err) {
        emit('nokey', { ok: true, connected: false, error: describe(err) });
    }
}

async function bearer(url, token) {
    const { client, transport } = newClient(url, { Authorization: `Bearer ${token}` });
    await run('connect', async () => {
        await client.connect(transport);
        return { sdkVersion: SDK_VERSION, sessionId: transport.sessionId ?? null };
    });
    await run('tools', async () => {
        const { tools } = await client.listTools();
        return { names: tools.map(t => t.name).sort() };
    });
    await run('terminate', async () => {
        await transport.terminateSession();
        return {};
    });
    await client.close();
}

const [mode, url, ...rest] = process.argv.slice(2);
if (mode === 'full' && url && rest.length === 3) {
    await full(url, ...rest);
} else if (mode === 'nokey' && url && rest.length === 0) {
    await nokey(url);
} else if (mode === 'bearer' && url && rest.length === 1) {
    await bearer(url, rest[0]);
} else {
    process.stderr.write('usage: client.mjs full URL KEY AGENT QUESTION | nokey URL | bearer URL TOKEN\n');
    process.exit(2);
}
