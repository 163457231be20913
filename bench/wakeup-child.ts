// The CPU cost of one idle event-loop wake-up on this machine: a 1 ms interval that does nothing,
// for a few seconds, in its own process. A generator that paces requests one by one (as an open
// model must) wakes up for each send slot and each response, so this bounds from below what pacing
// costs per request, whatever the HTTP client. Prints one JSON line.
//   node bench/wakeup-child.ts [SECONDS]

const seconds = Number(process.argv[2] ?? 5);
const c0 = process.cpuUsage();
const t0 = performance.now();
let wakes = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    wakes++;
    if (performance.now() - t0 >= seconds * 1000) {
      clearInterval(timer);
      resolve();
    }
  }, 1);
});
const cpu = process.cpuUsage(c0);
const elapsedS = (performance.now() - t0) / 1000;
process.stdout.write(
  `${JSON.stringify({
    wakes,
    wakesPerSecond: wakes / elapsedS,
    cpuUsPerWake: (cpu.user + cpu.system) / wakes,
    userUsPerWake: cpu.user / wakes,
    systemUsPerWake: cpu.system / wakes,
  })}\n`,
);
