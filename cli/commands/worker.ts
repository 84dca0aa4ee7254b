import { notYet } from './not-yet.js';

export const workerCommand = notYet('worker', 'TODO');
