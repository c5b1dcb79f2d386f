<?php
// A PHP client: a foreground job, then a background job polled with jobStatus.
// Usage: php client.php PORT
$client = new GearmanClient();
$client->addServer('127.0.0.1', (int) $argv[1]);

$reversed = $client->doNormal('reverse', 'Hello from PHP');
echo "php client: reverse -> $reversed\n";

$handle = $client->doBackground('resize', 'cat.jpg');
echo 'php client: background job ', $handle, "\n";
$last = '';
for ($poll = 0; $poll < 500; $poll++) {
    [$known, $running, $numerator, $denominator] = $client->jobStatus($handle);
    if (!$known) break;
    $line = $running ? "running $numerator/$denominator" : 'queued';
    if ($line !== $last) echo "php client: $line\n";
    $last = $line;
    usleep(20000);
}
echo "php client: done\n";
