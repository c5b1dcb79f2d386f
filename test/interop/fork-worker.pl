#!/usr/bin/perl
# The scenario of Gearman::Worker's own t/20-send-work-command.t and t/25-work-finish-command.t:
# each round registers a worker in this (parent) process, forks a child that works, runs one
# job through it and kills the child. The parent keeps every worker's socket open, so the
# server is left with sleeping workers that will never answer, and each new round's live
# worker sleeps behind them. A job that waits longer than SECONDS fails the run.
# Usage: perl fork-worker.pl PORT ROUNDS SECONDS
use strict;
use warnings;
use Gearman::Client;
use Gearman::Worker;
use Time::HiRes qw(time);

$| = 1;
my ($port, $rounds, $limit) = @ARGV;
my $server = "127.0.0.1:$port";
my $client = Gearman::Client->new(job_servers => [$server]);
my @kept;    # the parent's workers: their sockets outlive their children

for my $round (1 .. $rounds) {
    my $worker = Gearman::Worker->new(job_servers => [$server]);
    $worker->register_function(echo => sub { "r$round:" . $_[0]->arg });
    push @kept, $worker;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $worker->work while 1;
        exit 0;
    }
    my $start  = time;
    my $result = $client->do_task(echo => "job$round", { timeout => $limit });
    my $ms     = int((time - $start) * 1000);
    kill 'KILL', $pid;
    waitpid $pid, 0;
    if (!defined $result || $$result ne "r$round:job$round") {
        print "round $round: no result after $ms ms\n";
        exit 1;
    }
    print "round $round: ok\n";
}
