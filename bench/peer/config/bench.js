// Only what the benchmark needs on top of Actionhero's defaults: our own
// actions folder, the public folder of the run directory, one log sink (the
// console, which the harness sends to a file; actionhero-c has one too),
// loopback only, and the chat room of the fan-out scenarios.
const path = require("path");

exports.DEFAULT = {
  general: () => ({
    paths: {
      action: [path.join(__dirname, "..", "actions")],
      public: [path.join(process.cwd(), "public")],
      log: [],
    },
    startingChatRooms: { benchRoom: {} },
  }),
  web: () => ({ bindIP: "127.0.0.1" }),
};
