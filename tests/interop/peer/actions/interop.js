// Test actions of the peer, with the names and answers of the test-build
// actions of actionhero-c (tests/actions/cluster_test.c), so a test can
// drive either server the same way.
const { Action, api, cache, chatRoom, task } = require('actionhero');

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

class ChatMemberTest extends Action {
  constructor() {
    super();
    this.name = 'chatMemberTest';
    this.description = 'chatRoom.addMember / removeMember (interop peer)';
    this.inputs = { connectionId: { required: true }, room: { required: true }, op: {} };
  }

  async run({ params }) {
    const result = params.op === 'remove'
      ? await chatRoom.removeMember(params.connectionId, params.room)
      : await chatRoom.addMember(params.connectionId, params.room);
    return { result: result ?? null };
  }
}

class ChatDestroyTest extends Action {
  constructor() {
    super();
    this.name = 'chatDestroyTest';
    this.description = 'chatRoom.destroy (interop peer)';
    this.inputs = { room: { required: true } };
  }

  async run({ params }) {
    await chatRoom.destroy(params.room);
    return { ok: true };
  }
}

class CreateChatRoomTest extends Action {
  constructor() {
    super();
    this.name = 'createChatRoomTest';
    this.description = 'chatRoom.add (interop peer)';
    this.inputs = { name: { required: true } };
  }

  async run({ params }) {
    return { didCreate: await chatRoom.add(params.name) };
  }
}

module.exports.ChatMemberTest = ChatMemberTest;
module.exports.ChatDestroyTest = ChatDestroyTest;
module.exports.CreateChatRoomTest = CreateChatRoomTest;

class TaskEnqueueTest extends Action {
  constructor() {
    super();
    this.name = 'taskEnqueueTest';
    this.description = 'task.enqueue (interop peer)';
    this.inputs = { task: { required: true }, inputs: {}, queue: {} };
  }

  async run({ params }) {
    const inputs = params.inputs === undefined ? undefined : jsonParam(params.inputs);
    return { enqueued: await task.enqueue(params.task, inputs, params.queue) };
  }
}

module.exports.TaskEnqueueTest = TaskEnqueueTest;
