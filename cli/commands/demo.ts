import { notYet } from './not-yet.js';

export const demoCommand = notYet('demo', 'TODO');
