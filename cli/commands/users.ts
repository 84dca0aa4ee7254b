import { notYet } from './not-yet.js';

export const usersCommand = notYet('users', 'TODO');
