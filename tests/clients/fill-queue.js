// Adds BullMQ jobs (64 KB each) to a queue on the given Redis until Redis refuses one, then
// prints what BullMQ warned, how many adds succeeded, the error, and how many of the waiting
// jobs can still be read (an evicted job's id may stay in the wait list while its data is gone).
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
  const readable = (await queue.getWaiting(0, -1)).filter((job) => job && job.data).length;
  console.log(JSON.stringify({ warnings, added, error, readable }));
  await queue.close();
}

main().catch((failure) => {
  console.error(failure);
  process.exit(1);
});
