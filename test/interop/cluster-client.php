<?php
// The seed's background flow across a cluster: doBackground sent to node A, jobStatus polled
// on node C (a PHP worker runs the job on node B); prints JSON.
// Usage: php cluster-client.php PORT_A PORT_C
$submitter = new GearmanClient();
$submitter->addServer('127.0.0.1', (int) $argv[1]);
$poller = new GearmanClient();
$poller->addServer('127.0.0.1', (int) $argv[2]);
$handle = $submitter->doBackground('progress', 'video.mp4');
$out = ['created' => $submitter->returnCode() === GEARMAN_SUCCESS && $handle !== ''];
$seen = [];
for ($i = 0; $i < 200; $i++) {
    $status = $poller->jobStatus($handle);
    $seen[] = $status;
    if (!$status[0]) break;
    usleep(50000);
}
$out['statuses'] = $seen;
echo json_encode($out), "\n";
