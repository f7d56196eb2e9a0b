// Runs one handler in a process of its own, with this process's environment, so a test can kill it mid-way
// (SIGKILL: no cleanup, no finally, as a Lambda killed at its timeout). argv: handler name, event JSON.
async function main(): Promise<void> {
  const [name, eventJson] = process.argv.slice(2);
  if (!name || !eventJson) throw new Error('usage: child-handler <function name> <event JSON>');
  const { handler } = (await import(`../../src/functions/${name}/handler`)) as {
    handler: (event: unknown) => Promise<unknown>;
  };
  process.stdout.write(`${JSON.stringify(await handler(JSON.parse(eventJson)))}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
