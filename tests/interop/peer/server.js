// Start the peer: Actionhero's Process in this Node process; SIGTERM or
// SIGINT stop it (the leave notice goes out) and exit.
const { Process } = require('actionhero');

async function main() {
  const app = new Process();
  const stop = async () => {
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await app.start();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
