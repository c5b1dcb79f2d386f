#!/usr/bin/perl
# Asks worker.pl's `empty` and `zero` functions, whose results Gearman::Worker sends as a
# WORK_COMPLETE without the separator; prints what arrived. Usage: perl empty-client.pl PORT SECONDS
use strict;
use warnings;
use Gearman::Client;

my ($port, $limit) = @ARGV;
my $client = Gearman::Client->new(job_servers => ["127.0.0.1:$port"]);
for my $function (qw(empty zero)) {
    my $result = $client->do_task($function => 'x', { timeout => $limit });
    print "$function=", (defined $result ? "[$$result]" : 'undef'), "\n";
}
