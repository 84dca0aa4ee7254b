import { notYet } from './not-yet.js';

export const notifyCommand = notYet('notify', 'TODO');
