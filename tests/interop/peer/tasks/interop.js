// A task of the peer with the name of a test-build task of actionhero-c
// (testSetKey: store the params under params.key), so jobs can cross:
// this one adds `by: "node"` to tell who ran it.
const { Task, api } = require('actionhero');

class TestSetKey extends Task {
  constructor() {
    super();
    this.name = 'testSetKey';
    this.description = 'stores its params under params.key (interop peer)';
    this.frequency = 0;
    this.queue = 'node';
  }

  async run(params) {
    await api.redis.clients.client.set(params.key, JSON.stringify({ ...params, by: 'node' }));
    return true;
  }
}

module.exports = { TestSetKey };
