// `npm run bench` entry: environment defaults first (preload), then the bench; exits with its code.
import './support/preload';
import { run } from './run';

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
