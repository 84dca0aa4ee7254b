import { notYet } from './not-yet.js';

export const scanCommand = notYet('scan', 'TODO');
