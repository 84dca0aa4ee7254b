import { notYet } from './not-yet.js';

export const doctorCommand = notYet('doctor', 'TODO');
