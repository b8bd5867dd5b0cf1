// Shared fixtures of the unit tests: a tile catalogue as GET /tiles answers
// it (saved from the small demo, on a host the page does not use).
import {readFileSync} from 'node:fs';

export const catalogue = JSON.parse(readFileSync(new URL('./testdata/catalogue.json', import.meta.url), 'utf8')).layers;
export const byId = Object.fromEntries(catalogue.map((l) => [l.id, l]));
export const base = 'http://127.0.0.1:8095/';
