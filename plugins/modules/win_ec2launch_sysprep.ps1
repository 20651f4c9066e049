#!powershell

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.snapkit.cloud.plugins.module_utils._SnapkitScheduledTask

$spec = @{
    options = @{
        agent = @{ type = 'str'; default = 'auto'; choices = @('auto', 'ec2launch_v2', 'ec2launch_v1', 'ec2config') }
        start_sysprep = @{ type = 'bool'; default = $true }
        delay_seconds = @{ type = 'int'; default = 10 }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$sysprepTaskName = 'snapkit.cloud-sysprep'
$notAtNextBoot = @{
    ec2launch_v2 = ("EC2Launch v2 runs setAdminAccount once per instance and has run it: the setting takes effect after " +
        "'EC2Launch.exe reset' or Sysprep, not at the next boot.")
    ec2launch_v1 = ("EC2Launch v1 sets the password only when InitializeInstance.ps1 is scheduled: the setting takes effect after " +
        "'InitializeInstance.ps1 -Schedule' or Sysprep, not at the next boot.")
}
$utf8NoBom = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false

# Where each agent lives, in detection order (EC2Launch v2 first: installing it removes the two older agents).
$ec2LaunchV1Root = Join-Path -Path $env:ProgramData -ChildPath 'Amazon\EC2-Windows\Launch'
$ec2ConfigRoot = Join-Path -Path $env:ProgramFiles -ChildPath 'Amazon\Ec2ConfigService'
$agents = [ordered]@{
    ec2launch_v2 = @{
        marker = Join-Path -Path $env:ProgramFiles -ChildPath 'Amazon\EC2Launch\EC2Launch.exe'
        config = Join-Path -Path $env:ProgramData -ChildPath 'Amazon\EC2Launch\config\agent-config.yml'
    }
    ec2launch_v1 = @{
        marker = Join-Path -Path $ec2LaunchV1Root -ChildPath 'Scripts\InitializeInstance.ps1'
        config = Join-Path -Path $ec2LaunchV1Root -ChildPath 'Config\LaunchConfig.json'
    }
    ec2config = @{
        marker = Join-Path -Path $ec2ConfigRoot -ChildPath 'Ec2Config.exe'
        config = Join-Path -Path $ec2ConfigRoot -ChildPath 'Settings\Config.xml'
    }
}

# The scheduled task's script. Its body runs in one try: every step, exit code and exception goes to the log
# (sysprep.log) and the phase to the state file (sysprep.json), which the module reads at its next run. The script
# file is removed at once (PowerShell has read it); the task stays registered, and so "Running", for the whole
# Sysprep, so that a rerun is refused until the machine is down. It is unregistered only when Sysprep failed.
$sysprepParam = @'
param(
    [string]$TaskName,
    [int]$DelaySeconds,
    [string]$Agent,
    [string]$Marker,
    [string]$LogPath,
    [string]$StatePath
)
'@
$sysprepBody = @'
Function Write-SysprepLog {
    param([string]$Line)
    Add-Content -LiteralPath $LogPath -Value ('{0} {1}' -f (Get-Date).ToUniversalTime().ToString('o'), $Line) -Encoding UTF8
}
Function Set-SysprepPhase {
    param([string]$Phase, [string]$ErrorText, $ExitCode)
    $state = Get-Content -LiteralPath $StatePath -Raw | ConvertFrom-Json
    $state.phase = $Phase
    $state.error = $ErrorText
    $state.exit_code = $ExitCode
    Set-Content -LiteralPath $StatePath -Value ($state | ConvertTo-Json) -Encoding UTF8
}
Function Invoke-Logged {
    <# Runs a program with arguments, its output to the log; returns its exit code. #>
    param([string]$FilePath, [string[]]$ArgumentList)
    $ErrorActionPreference = 'Continue'
    & $FilePath @ArgumentList 2>&1 | ForEach-Object { Write-SysprepLog -Line ([string]$_) }
    $LASTEXITCODE
}
Remove-Item -LiteralPath $PSCommandPath -Force -ErrorAction SilentlyContinue
$failed = $true
try {
    Start-Sleep -Seconds $DelaySeconds
    Set-SysprepPhase -Phase 'running'
    $scripts = Split-Path -Path $Marker -Parent
    switch ($Agent) {
        'ec2launch_v2' {
            # --block: EC2Launch first lets its service finish its boot stages; without it a busy agent's run-once
            # state can swallow setAdminAccount. A stuck agent is logged every minute.
            Write-SysprepLog -Line "running $Marker sysprep --shutdown --block"
            $out = Join-Path -Path (Split-Path -Path $LogPath -Parent) -ChildPath 'ec2launch-sysprep.out'
            $process = Start-Process -FilePath $Marker -ArgumentList @('sysprep', '--shutdown', '--block') -NoNewWindow -PassThru `
                -RedirectStandardOutput $out -RedirectStandardError ($out + '.err')
            $null = $process.Handle
            $minutes = 0
            while (-not $process.WaitForExit(60000)) {
                $minutes++
                Write-SysprepLog -Line "EC2Launch.exe sysprep --block still waiting after $minutes min: the agent is busy (see its agent.log)"
            }
            Get-Content -LiteralPath $out, ($out + '.err') -ErrorAction SilentlyContinue | ForEach-Object { Write-SysprepLog -Line $_ }
            $code = $process.ExitCode
        }
        'ec2launch_v1' {
            # Each script in its own powershell.exe: an exception in it is exit code 1 here, not a silent stop.
            $powershell = Join-Path -Path $PSHOME -ChildPath 'powershell.exe'
            $initialize = Join-Path -Path $scripts -ChildPath 'InitializeInstance.ps1'
            Write-SysprepLog -Line "running $initialize -Schedule"
            $code = Invoke-Logged -FilePath $powershell -ArgumentList @('-NoProfile', '-ExecutionPolicy', 'Bypass', '-File', $initialize, '-Schedule')
            if ($code -ne 0) {
                throw "InitializeInstance.ps1 -Schedule exited with code $code; SysprepInstance.ps1 was not run"
            }
            $sysprepScript = Join-Path -Path $scripts -ChildPath 'SysprepInstance.ps1'
            Write-SysprepLog -Line "running $sysprepScript"
            $code = Invoke-Logged -FilePath $powershell -ArgumentList @('-NoProfile', '-ExecutionPolicy', 'Bypass', '-File', $sysprepScript)
        }
        'ec2config' {
            Write-SysprepLog -Line "running $Marker -sysprep"
            $code = Invoke-Logged -FilePath $Marker -ArgumentList @('-sysprep')
        }
    }
    Write-SysprepLog -Line "exit code $code"
    if ($code -ne 0) {
        throw "the agent's Sysprep command exited with code $code"
    }
    # Sysprep shuts the machine down now; the state stays 'running' until then.
    $failed = $false
}
catch {
    Write-SysprepLog -Line "FAILED: $($_.Exception.Message)"
    Set-SysprepPhase -Phase 'failed' -ErrorText $_.Exception.Message -ExitCode $code
}
finally {
    if ($failed) {
        Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false -ErrorAction SilentlyContinue
    }
}
'@

Function Find-Agent {
    <# The agent to use: the one asked for, or the first installed one; fails naming every path looked at. #>
    param([Parameter(Mandatory = $true)][string]$Wanted)
    $candidates = if ($Wanted -eq 'auto') { @($agents.Keys) } else { @($Wanted) }
    foreach ($name in $candidates) {
        if (Test-Path -LiteralPath $agents[$name].marker -PathType Leaf) {
            return $name
        }
    }
    $looked = @($candidates | ForEach-Object { "$_ ($($agents[$_].marker))" }) -join ', '
    if ($Wanted -eq 'auto') {
        $module.FailJson("No EC2 launch agent found; looked for $looked. Install EC2Launch v2, or generalise the host another way.")
    }
    $module.FailJson("agent=$($Wanted): not installed; looked for $looked.")
}

Function Write-TextFile {
    param([string]$Path, [string]$Text)
    [System.IO.File]::WriteAllText($Path, $Text, $utf8NoBom)
}

Function Invoke-Ec2LaunchV2 {
    <# Runs EC2Launch.exe with arguments; returns its standard output, throws with all its output on a non-zero exit code. #>
    param([string[]]$ArgumentList)
    # Windows PowerShell 5.1 turns redirected native stderr lines into error records, which would throw under the
    # module's ErrorActionPreference Stop; they are kept apart instead (stdout alone is the JSON).
    $ErrorActionPreference = 'Continue'
    $lines = @(& $agents.ec2launch_v2.marker @ArgumentList 2>&1)
    $exitCode = $LASTEXITCODE
    $stdout = @($lines | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }) -join "`n"
    if ($exitCode -ne 0) {
        # Never the whole output: get-agent-config prints the configuration, static password included. Only the
        # error lines, with any password data masked.
        $errors = @($lines | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) -join "`n"
        $secrets = @(Get-PasswordDataValue -Path $agents.ec2launch_v2.config)
        throw "EC2Launch.exe $($ArgumentList -join ' ') failed with exit code $($exitCode): $(Hide-PasswordData -Text $errors -Secret $secrets)"
    }
    $stdout
}

Function Get-PasswordDataValue {
    <# The values of the data fields of a configuration file (a static password is one), read as text: the file may not parse. #>
    param([string]$Path)
    $text = [System.IO.File]::ReadAllText($Path)
    foreach ($found in [regex]::Matches($text, '(?im)^\s*"?data"?\s*:\s*(.+?)\s*,?\s*$')) {
        $value = $found.Groups[1].Value.Trim('"', "'")
        if ($value) {
            $value
        }
    }
}

Function Hide-PasswordData {
    <# The text with the value of every data/password/adminPassword field (YAML, JSON or XML spelling) and every Secret masked. #>
    param([string]$Text, [string[]]$Secret = @())
    foreach ($value in $Secret) {
        $Text = $Text.Replace($value, '********')
    }
    $masked = $Text -replace '(?i)("?(?:data|password|adminPassword)"?\s*[:=]\s*)("[^"]*"|''[^'']*''|[^\s,}]+)', '$1********'
    $masked -replace '(?i)(<(?:data|password|adminPassword)>)[^<]*', '$1********'
}

Function Get-V2AdminTask {
    <# The setAdminAccount task of stage preReady, or $null. #>
    param($Config)
    foreach ($stage in @($Config.config)) {
        if ($stage.stage -eq 'preReady') {
            foreach ($task in @($stage.tasks)) {
                if ($task.task -eq 'setAdminAccount') {
                    return $task
                }
            }
        }
    }
    $null
}

Function Set-Ec2LaunchV2Password {
    <# EC2Launch v2: setAdminAccount password type random in agent-config.yml, checked by "EC2Launch.exe validate". #>
    $path = $agents.ec2launch_v2.config
    $config = Invoke-Ec2LaunchV2 -ArgumentList @('get-agent-config', '--format', 'json') | ConvertFrom-Json
    $task = Get-V2AdminTask -Config $config
    $before = if ($null -ne $task -and $null -ne $task.inputs -and $null -ne $task.inputs.password) { [string]$task.inputs.password.type } else { $null }
    $change = $before -cne 'random'
    if ($change -and -not $module.CheckMode) {
        # Replacing the password object drops static password data.
        $password = [pscustomobject]@{ type = 'random' }
        if ($null -ne $task) {
            if ($null -eq $task.inputs) {
                $task | Add-Member -NotePropertyName inputs -NotePropertyValue ([pscustomobject]@{ name = 'Administrator' }) -Force
            }
            $task.inputs | Add-Member -NotePropertyName password -NotePropertyValue $password -Force
        }
        else {
            $newTask = [pscustomobject]@{ task = 'setAdminAccount'; inputs = [pscustomobject]@{ name = 'Administrator'; password = $password } }
            $stage = @($config.config) | Where-Object { $_.stage -eq 'preReady' } | Select-Object -First 1
            if ($null -eq $stage) {
                $stage = [pscustomobject]@{ stage = 'preReady'; tasks = @() }
                $config.config = @($config.config) + $stage
            }
            $stage.tasks = @($stage.tasks) + $newTask
        }
        $previous = [System.IO.File]::ReadAllText($path)
        # JSON is valid YAML: the way AWS documents editing agent-config.yml without a YAML parser.
        Write-TextFile -Path $path -Text ($config | ConvertTo-Json -Depth 32)
        try {
            $null = Invoke-Ec2LaunchV2 -ArgumentList @('validate')
        }
        catch {
            Write-TextFile -Path $path -Text $previous
            throw "EC2Launch v2 rejected the new file, the previous one is restored: $($_.Exception.Message)"
        }
    }
    @{ before = $before; after = 'random'; changed = $change; extra = @{} }
}

Function Set-Ec2LaunchV1Password {
    <# EC2Launch v1: adminPasswordType Random (and no adminPassword) in LaunchConfig.json. #>
    $path = $agents.ec2launch_v1.config
    $config = [System.IO.File]::ReadAllText($path) | ConvertFrom-Json
    # Property names are matched case-insensitively (real files use both casings); existing names are kept.
    $typeProperty = $config.PSObject.Properties['adminPasswordType']
    $passwordProperty = $config.PSObject.Properties['adminPassword']
    $before = if ($null -ne $typeProperty) { [string]$typeProperty.Value } else { $null }
    $change = ($before -cne 'Random') -or ($null -ne $passwordProperty -and [string]$passwordProperty.Value -ne '')
    if ($change -and -not $module.CheckMode) {
        if ($null -ne $typeProperty) { $typeProperty.Value = 'Random' }
        else { $config | Add-Member -NotePropertyName adminPasswordType -NotePropertyValue 'Random' }
        if ($null -ne $passwordProperty) { $passwordProperty.Value = '' }
        Write-TextFile -Path $path -Text ($config | ConvertTo-Json -Depth 32)
    }
    # The diff shows the adminPassword too (whether one is set, never its value): it can be the only change.
    $hadPassword = ($null -ne $passwordProperty -and [string]$passwordProperty.Value -ne '')
    @{ before = $before; after = 'Random'; changed = $change; extra = @{ admin_password_set = @{ before = $hadPassword; after = $false } } }
}

Function Set-Ec2ConfigPassword {
    <# EC2Config: plug-in Ec2SetPassword Enabled in Config.xml, SetPasswordAfterSysprep Yes in BundleConfig.xml. #>
    $path = $agents.ec2config.config
    $bundlePath = Join-Path -Path (Split-Path -Path $path -Parent) -ChildPath 'BundleConfig.xml'
    $config = New-Object -TypeName System.Xml.XmlDocument
    $config.Load($path)
    $plugin = $config.SelectSingleNode("/Ec2ConfigurationSettings/Plugins/Plugin[Name='Ec2SetPassword']/State")
    if ($null -eq $plugin) {
        throw "EC2Config: no plug-in Ec2SetPassword in $path; repair the EC2Config installation."
    }
    $bundle = New-Object -TypeName System.Xml.XmlDocument
    $bundle.Load($bundlePath)
    $afterSysprep = $bundle.SelectSingleNode("/BundleConfig/Property[Name='SetPasswordAfterSysprep']/Value")
    if ($null -eq $afterSysprep) {
        throw "EC2Config: no property SetPasswordAfterSysprep in $bundlePath; repair the EC2Config installation."
    }
    $before = $plugin.InnerText
    $bundleBefore = $afterSysprep.InnerText
    $change = ($before -cne 'Enabled') -or ($bundleBefore -cne 'Yes')
    if ($change -and -not $module.CheckMode) {
        $plugin.InnerText = 'Enabled'
        $config.Save($path)
        $afterSysprep.InnerText = 'Yes'
        $bundle.Save($bundlePath)
    }
    @{
        before = $before
        after = 'Enabled'
        changed = $change
        extra = @{ set_password_after_sysprep = @{ before = $bundleBefore; after = 'Yes' } }
    }
}

Function Get-PendingReboot {
    <# The reasons Windows waits for a reboot (Sysprep fails then): CBS, Windows Update, pending file renames. #>
    $cbs = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
    $update = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
    $sessionManager = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
    if (Test-Path -LiteralPath $cbs) {
        $cbs
    }
    if (Test-Path -LiteralPath $update) {
        $update
    }
    $renames = (Get-ItemProperty -LiteralPath $sessionManager -Name PendingFileRenameOperations -ErrorAction SilentlyContinue).PendingFileRenameOperations
    if (@($renames | Where-Object { $_ }).Count -gt 0) {
        "$sessionManager\PendingFileRenameOperations"
    }
}

Function Get-SysprepCommand {
    param([string]$Agent)
    $marker = $agents[$Agent].marker
    switch ($Agent) {
        'ec2launch_v2' { "`"$marker`" sysprep --shutdown --block" }
        'ec2launch_v1' {
            $scripts = Split-Path -Path $marker -Parent
            "`"$marker`" -Schedule; `"$(Join-Path -Path $scripts -ChildPath 'SysprepInstance.ps1')`""
        }
        'ec2config' { "`"$marker`" -sysprep" }
    }
}

$delay = $module.Params.delay_seconds
if ($delay -lt 0 -or $delay -gt 3600) {
    $module.FailJson("delay_seconds must be between 0 and 3600 seconds, got $delay.")
}

$agent = Find-Agent -Wanted $module.Params.agent
$module.Result.agent = $agent
$module.Result.config_path = $agents[$agent].config
$module.Result.sysprep_command = Get-SysprepCommand -Agent $agent
$module.Result.sysprep_scheduled = $false
$module.Result.task_name = $null

# What the Sysprep of an earlier run did: its state file (phase waiting, running or failed) and its log.
$statePath = Join-Path -Path (Get-SnapkitTaskDirectoryPath) -ChildPath 'sysprep.json'
$logPath = Join-Path -Path (Get-SnapkitTaskDirectoryPath) -ChildPath 'sysprep.log'
$previous = $null
if (Test-Path -LiteralPath $statePath -PathType Leaf) {
    $previous = Get-Content -LiteralPath $statePath -Raw | ConvertFrom-Json
}
$module.Result.previous_sysprep = $previous

if ($module.Params.start_sysprep) {
    # Refuse before any change: a generalisation pending, an earlier Sysprep under way, a reboot pending, a task folder
    # that is not admin-only.
    $generalization = (Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\Setup\Status\SysprepStatus' -Name GeneralizationState -ErrorAction SilentlyContinue).GeneralizationState
    if ($null -ne $generalization -and [int]$generalization -ne 7) {
        $module.FailJson("Sysprep cannot start: Windows reports GeneralizationState $generalization (7 = ready). " +
            "Sysprep already ran or is pending; reboot and check C:\Windows\System32\Sysprep\Panther\setupact.log.")
    }
    # The whole Sysprep, not only the delay: the task stays Running until the machine is down, and the state file
    # says waiting or running since this boot.
    $lastBoot = (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
    $underWay = ($null -ne $previous) -and (@('waiting', 'running') -contains [string]$previous.phase) -and
    ([datetime]::Parse([string]$previous.started).ToUniversalTime() -ge $lastBoot.ToUniversalTime())
    if ((Test-SnapkitTaskRunning -TaskName $sysprepTaskName) -or $underWay) {
        $phase = if ($null -ne $previous) { [string]$previous.phase } else { 'running' }
        $module.FailJson("The Sysprep of an earlier run is still under way (task '$sysprepTaskName', phase $phase); " +
            "the instance is about to shut down. See $logPath.")
    }
    $pending = @(Get-PendingReboot)
    if ($pending.Count -gt 0) {
        $module.FailJson("Sysprep cannot start: a reboot is pending ($($pending -join '; ')). Sysprep fails on a machine " +
            "waiting for a reboot: reboot it, then run again.")
    }
    try {
        Assert-SnapkitTaskDirectory
    }
    catch {
        $module.FailJson("Sysprep cannot be scheduled: $($_.Exception.Message)")
    }
}
if ($null -ne $previous -and [string]$previous.phase -eq 'failed') {
    $module.Warn("The Sysprep started by an earlier run failed: $($previous.error) (see $logPath).")
}
if (-not (Test-Path -LiteralPath $agents[$agent].config -PathType Leaf)) {
    $module.FailJson("$agent is installed but its configuration $($agents[$agent].config) is missing; repair the agent.")
}

try {
    $password = switch ($agent) {
        'ec2launch_v2' { Set-Ec2LaunchV2Password }
        'ec2launch_v1' { Set-Ec2LaunchV1Password }
        'ec2config' { Set-Ec2ConfigPassword }
    }
}
catch {
    $module.FailJson("Setting the random password option of $agent in $($agents[$agent].config) failed: $($_.Exception.Message)", $_)
}
$module.Result.password_option = @{ before = $password.before; after = $password.after }
$module.Result.changed = $password.changed
$module.Diff.before = @{ agent = $agent; config_path = $agents[$agent].config; password = $password.before }
$module.Diff.after = @{ agent = $agent; config_path = $agents[$agent].config; password = $password.after }
foreach ($name in $password.extra.Keys) {
    $module.Diff.before[$name] = $password.extra[$name].before
    $module.Diff.after[$name] = $password.extra[$name].after
}

if (-not $module.Params.start_sysprep) {
    # The setting alone: does the next boot act on it? v2 runs setAdminAccount once per instance (its .run-once
    # state), v1 runs InitializeInstance.ps1 only when it is scheduled, EC2Config runs Ec2SetPassword at each boot
    # until it has set a password.
    $ready = switch ($agent) {
        'ec2launch_v2' { -not (Test-Path -LiteralPath (Join-Path -Path $env:ProgramData -ChildPath 'Amazon\EC2Launch\state\.run-once')) }
        'ec2launch_v1' { $null -ne (Get-ScheduledTask -TaskName 'Amazon Ec2 Launch - Instance Initialization' -ErrorAction SilentlyContinue) }
        'ec2config' { $true }
    }
    $module.Result.new_password_at_next_boot = $ready
    if (-not $ready) {
        $module.Warn($notAtNextBoot[$agent])
    }
}
else {
    $module.Result.new_password_at_next_boot = $true
    $module.Result.task_name = $sysprepTaskName
    $module.Result.sysprep_scheduled = $true
    $module.Result.changed = $true
    if (-not $module.CheckMode) {
        try {
            $null = Get-SnapkitTaskDirectory
            $state = [ordered]@{ phase = 'waiting'; agent = $agent; started = (Get-Date).ToUniversalTime().ToString('o'); error = $null; exit_code = $null }
            Write-TextFile -Path $statePath -Text ($state | ConvertTo-Json)
            $arguments = @('-TaskName', $sysprepTaskName, '-DelaySeconds', [string]$delay, '-Agent', $agent,
                '-Marker', $agents[$agent].marker, '-LogPath', $logPath, '-StatePath', $statePath)
            $null = Start-SnapkitSystemTask -TaskName $sysprepTaskName -Script @($sysprepParam, $sysprepBody) -ArgumentList $arguments
        }
        catch {
            $module.FailJson("Scheduling Sysprep failed (the password option is set): $($_.Exception.Message)", $_)
        }
    }
}
$module.ExitJson()
