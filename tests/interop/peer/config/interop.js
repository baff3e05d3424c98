// The peer's configuration: on top of Actionhero's defaults, only what the
// interop tests need.  REDIS_HOST / REDIS_PORT and PORT come from the
// environment (Actionhero's own defaults read them), as do LOG_LEVEL and
// ACTIONHERO_TITLE; the serverToken from PEER_SERVER_TOKEN.
const path = require('path');

exports.DEFAULT = {
  general: () => ({
    serverToken: process.env.PEER_SERVER_TOKEN || 'change-me',
    startingChatRooms: { defaultRoom: {}, otherRoom: {} },
    paths: {
      action: [path.join(__dirname, '..', 'actions')],
      task: [path.join(__dirname, '..', 'tasks')],
      initializer: [path.join(__dirname, '..', 'initializers')],
      server: [path.join(__dirname, '..', 'servers')],
      cli: [path.join(__dirname, '..', 'bin')],
      plugin: [],
    },
  }),
  web: () => ({ automaticRoutes: ['get'] }),
  // one worker on the queue `node` (actionhero-c's workers take `default`)
  tasks: () => ({ scheduler: false, queues: ['node'], minTaskProcessors: 1, maxTaskProcessors: 1 }),
};
