import { notYet } from './not-yet.js';

export const bridgeCommand = notYet('bridge', 'TODO');
