// The Actionhero 29 peer for bench/run.sh: Actionhero from bench/node_modules
// on this small project.  The harness runs it from a scratch directory
// (the project root: pids/ and public/ live there) with NODE_ENV, PORT,
// REDIS_PORT set; the configuration is in ./config, the actions in ./actions.
const path = require("path");

process.env.ACTIONHERO_CONFIG = path.join(__dirname, "config");
const { Process } = require("actionhero");

const app = new Process();
app.registerProcessSignals((code) => process.exit(code));
app.start();
