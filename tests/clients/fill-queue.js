// Adds BullMQ jobs (64 KB each) to a queue on the given Redis until Redis refuses one, then
// prints what BullMQ warned, how many adds succeeded, the error, and how many jobs wait.
// The password comes in the environment (REDIS_PASSWORD), never on the command line.
const { Queue } = require('bullmq');

const warnings = [];
console.warn = (...parts) => warnings.push(parts.join(' '));

async function main() {
  const [port, attempts] = process.argv.slice(2).map(Number);
  const connection = {
    host: '127.0.0.1', port, password: process.env.REDIS_PASSWORD, maxRetriesPerRequest: 1,
  };
  const queue = new Queue('orders', { connection });
  await queue.waitUntilReady();  // BullMQ reads the eviction policy from INFO as it connects
  const payload = 'x'.repeat(64 * 1024);
  let added = 0;
  let error = null;
  for (let order = 0; order < attempts; order += 1) {
    try {
      await queue.add('ship', { order, payload });
      added += 1;
    } catch (failure) {
      error = String(failure.message || failure);
      break;
    }
  }
  const waiting = await queue.getWaitingCount();
  console.log(JSON.stringify({ warnings, added, error, waiting }));
  await queue.close();
}

main().catch((failure) => {
  console.error(failure);
  process.exit(1);
});
