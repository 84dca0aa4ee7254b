import { notYet } from './not-yet.js';

export const scheduleCommand = notYet('schedule', 'TODO');
