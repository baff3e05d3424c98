// Test actions of the peer, with the names and answers of the test-build
// actions of actionhero-c (tests/actions/cluster_test.c), so a test can
// drive either server the same way.
const { Action, api, cache } = require('actionhero');

// JSON text (HTTP params) or a value; text that is not JSON is a string.
function jsonParam(v) {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { return v; }
}

class CacheSaveTest extends Action {
  constructor() {
    super();
    this.name = 'cacheSaveTest';
    this.description = 'cache.save (interop peer)';
    this.inputs = { key: { required: true }, value: { required: true }, expireTimeMS: {} };
  }

  async run({ params }) {
    const ms = params.expireTimeMS ? Number(params.expireTimeMS) : undefined;
    return { result: await cache.save(params.key, jsonParam(params.value), ms) };
  }
}

class CacheLoadTest extends Action {
  constructor() {
    super();
    this.name = 'cacheLoadTest';
    this.description = 'cache.load (interop peer)';
    this.inputs = { key: { required: true } };
  }

  async run({ params }) {
    return { result: await cache.load(params.key) };
  }
}

class ConnectionApplyTest extends Action {
  constructor() {
    super();
    this.name = 'connectionApplyTest';
    this.description = 'api.connections.apply (interop peer)';
    this.inputs = { connectionId: { required: true }, method: {}, args: {} };
  }

  async run({ params }) {
    const args = params.args === undefined ? undefined : jsonParam(params.args);
    return { connection: (await api.connections.apply(params.connectionId, params.method, args)) ?? null };
  }
}

module.exports = { CacheSaveTest, CacheLoadTest, ConnectionApplyTest };
