import { notYet } from './not-yet.js';

export const dbCommand = notYet('db', 'TODO');
