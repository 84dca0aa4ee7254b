// The workflow bundle's entry point: every workflow the control worker runs.
export { sweep } from './sweep.js';
export { scanUser, scanProgressQuery } from './scan-user.js';
export { applyScan } from './apply-scan.js';
