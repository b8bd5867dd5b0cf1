// Debian's Chromium as every browser test and benchmark here starts it:
// headless, WebGL on SwiftShader (no GPU on these machines), nothing in the
// background that could reach the network.
import {chromium} from 'playwright-core';

/** Launches Chromium (executablePath: Debian's /usr/bin/chromium unless given). */
export function launchChromium(executablePath = '/usr/bin/chromium') {
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader'],
  });
}
