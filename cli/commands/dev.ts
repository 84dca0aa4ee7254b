import { notYet } from './not-yet.js';

export const devCommand = notYet('dev', 'TODO');
