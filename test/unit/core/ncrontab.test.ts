import { describe, expect, it } from 'vitest';
import { ncrontabProblem } from '../../../src/core/ncrontab.js';

describe('NCRONTAB schedules', () => {
  it.each([
    '0 */30 * * * *',
    '*/10 * * * * *',
    '0 0 0 1,15 * *',
    '0 30 9 * * Monday',
    '0 0 12 * January-march sun',
    '15 5/10 * * * *',
    '0 0 0 31 DEC 6',
  ])('accepts %s', (expression) => {
    expect(ncrontabProblem(expression)).toBeUndefined();
  });

  it.each([
    ['0 */30 * * * * *', /7 fields/],
    ['60 * * * * *', /second field/],
    ['0 * * 0 * *', /day field "0"/],
    ['0 * * * 13 *', /month field "13"/],
    ['0 * * * * 7', /day-of-week field "7"/],
    ['0 */0 * * * *', /step of 0/],
    ['0 10-5 * * * *', /runs backwards/],
    ['0 1,,2 * * * *', /empty list item/],
    ['0 ? * * * *', /minute field "\?"/],
    ['0 0 0 * * Mo', /day-of-week field "Mo"/],
    ['0 0 0 * * Mondays', /day-of-week field "Mondays"/],
  ])('refuses %s', (expression, problem) => {
    expect(ncrontabProblem(expression)).toMatch(problem);
  });
});
