#!/usr/bin/perl
# A Perl Gearman::Client for the interop tests; prints one line per result.
# Usage: perl client.pl PORT
use strict;
use warnings;
use Gearman::Client;

my ($port) = @ARGV;
my $client = Gearman::Client->new(job_servers => ["127.0.0.1:$port"]);

my $result = $client->do_task(reverse => 'hello');
print 'do_task ', (defined $result ? $$result : 'undef'), "\n";

my $taskset = $client->new_task_set;
my %results;
for my $word (qw(alpha beta gamma)) {
    $taskset->add_task(
        upper => $word,
        { on_complete => sub { $results{$word} = ${ $_[0] } }, on_fail => sub { $results{$word} = 'FAILED' } },
    );
}
$taskset->wait;
print "taskset $_=$results{$_}\n" for sort keys %results;

my $handle = $client->dispatch_background(reverse => 'later');
print 'background ', (defined $handle ? 'handle' : 'undef'), "\n";
